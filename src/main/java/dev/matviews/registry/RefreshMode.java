package dev.matviews.registry;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.db.DbEnum;

/**
 * How a view is refreshed; stored in refresh_mode. AUTO is a registration's mode only: each run
 * decides, and records, standard or concurrent.
 */
public enum RefreshMode implements DbEnum {
    STANDARD,
    CONCURRENT,
    /** Concurrent when the view is populated and has a unique index CONCURRENTLY can use, else standard. */
    AUTO,
    /**
     * An incremental view: a table matviews created from a definition, refreshed by applying the
     * changes of its sources (docs/incremental.md). Set only by registering with a definition.
     */
    INCREMENTAL;

    @Override
    @JsonValue
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    public static RefreshMode parse(String value) {
        return DbEnum.parse(RefreshMode.class, "refreshMode", value);
    }
}
