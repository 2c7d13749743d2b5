package dev.matviews.runs;

import com.fasterxml.jackson.annotation.JsonValue;

/** What started a run. */
public enum Trigger {
    /** POST …/refresh, answered when the refresh ends. */
    MANUAL,
    /** POST …/refresh with Prefer: respond-async, answered when the run starts. */
    ASYNC,
    SCHEDULE,
    CASCADE;

    @JsonValue
    public String wireName() {
        return name().toLowerCase();
    }

    public static Trigger parse(String value) {
        return valueOf(value.toUpperCase());
    }
}
