package dev.matviews.runs;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.db.DbEnum;

/** Where a refresh run is, or how it ended. Only {@link #RUNNING} is unfinished. */
public enum RunStatus implements DbEnum {
    RUNNING, SUCCESS, ERROR, CANCELLED, TIMEOUT, SKIPPED, ABANDONED;

    @Override
    @JsonValue
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    public static RunStatus parse(String value) {
        return DbEnum.parse(RunStatus.class, "status", value);
    }
}
