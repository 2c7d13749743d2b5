package dev.matviews.runs;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.db.DbEnum;

/** What started a run. */
public enum Trigger implements DbEnum {
    /** POST …/refresh, answered when the refresh ends. */
    MANUAL,
    /** POST …/refresh with Prefer: respond-async, answered when the run starts. */
    ASYNC,
    SCHEDULE,
    CASCADE;

    @Override
    @JsonValue
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    public static Trigger parse(String value) {
        return DbEnum.parse(Trigger.class, "trigger", value);
    }
}
