package dev.matviews.runs;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.registry.InvalidInputException;

/** Where a refresh run is, or how it ended. Only {@link #RUNNING} is unfinished. */
public enum RunStatus {
    RUNNING, SUCCESS, ERROR, CANCELLED, TIMEOUT, SKIPPED, ABANDONED;

    @JsonValue
    public String wireName() {
        return name().toLowerCase();
    }

    public static RunStatus parse(String value) {
        for (RunStatus status : values()) {
            if (status.wireName().equals(value)) {
                return status;
            }
        }
        throw new InvalidInputException("status must be one of running, success, error, cancelled, timeout,"
                + " skipped, abandoned; got '" + value + "'");
    }
}
