package dev.matviews.registry;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How a view is refreshed; stored in refresh_mode by its wire name. */
public enum RefreshMode {
    STANDARD("standard"),
    CONCURRENT("concurrent");

    private final String wireName;

    RefreshMode(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    public static RefreshMode parse(String value) {
        for (RefreshMode mode : values()) {
            if (mode.wireName.equals(value)) {
                return mode;
            }
        }
        throw new InvalidInputException("refreshMode must be one of "
                + Arrays.stream(values()).map(RefreshMode::wireName).collect(Collectors.joining(", "))
                + ", got '" + value + "'");
    }
}
