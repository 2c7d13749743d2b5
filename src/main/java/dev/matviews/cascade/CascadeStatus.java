package dev.matviews.cascade;

import dev.matviews.db.DbEnum;

/** A cascade's status, as `_matviews_cascades.status` stores it. */
public enum CascadeStatus implements DbEnum {
    RUNNING,
    /** Every node refreshed (or proved unchanged). */
    SUCCESS,
    /** A node failed or was skipped. */
    FAILED,
    CANCELLED,
    /** Its instance stopped before it ended. */
    ABANDONED;

    @Override
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    /** Whether {@code status}, as a cascade shows it, is this one. */
    public boolean is(String status) {
        return dbName().equals(status);
    }
}
