package dev.matviews.registry;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.db.DbEnum;

/** How a view's latest finished refresh ended, as its registration shows it (last_refresh_status). */
public enum RefreshStatus implements DbEnum {
    SUCCESS, ERROR;

    @Override
    @JsonValue
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    /** Null for a view never refreshed. */
    public static RefreshStatus parse(String value) {
        return value == null ? null : DbEnum.parse(RefreshStatus.class, "lastRefreshStatus", value);
    }
}
