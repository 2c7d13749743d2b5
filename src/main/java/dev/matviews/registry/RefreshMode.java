package dev.matviews.registry;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.db.DbEnum;

/** How a view is refreshed; stored in refresh_mode. */
public enum RefreshMode implements DbEnum {
    STANDARD,
    CONCURRENT;

    @Override
    @JsonValue
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    public static RefreshMode parse(String value) {
        return DbEnum.parse(RefreshMode.class, "refreshMode", value);
    }
}
