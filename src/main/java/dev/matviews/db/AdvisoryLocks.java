package dev.matviews.db;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;

/**
 * matviews' advisory locks, and the only place that names them in SQL. They use the two-int key
 * space (never used by Flyway's or most applications' bigint locks) with the first key fixed. A
 * view's refresh lock has the view's OID as second key; second keys below 16384 (no user object
 * has such an OID) are the service's own.
 */
public final class AdvisoryLocks {

    /** 'matv' in ASCII. */
    public static final int NAMESPACE = 0x6D617476;

    private AdvisoryLocks() {
    }

    /** An expression that tries the session lock on {@code keyExpr} (an int4 expression): true if taken. */
    public static String tryLock(String keyExpr) {
        return "pg_try_advisory_lock(" + NAMESPACE + ", " + keyExpr + ")";
    }

    /** A statement that waits for the transaction lock on {@code key}, released at commit or rollback. */
    public static String transactionLock(int key) {
        return "SELECT pg_advisory_xact_lock(" + NAMESPACE + ", " + key + ")";
    }

    /**
     * A condition on the pg_locks row {@code locks}: it is a granted hold of the lock on
     * {@code keyExpr} (an int4 expression). pg_locks shows the two-int form with objsubid 2 and
     * the second key as an oid.
     */
    public static String isHeld(String locks, String keyExpr) {
        return locks + ".locktype = 'advisory' AND " + locks + ".classid = " + NAMESPACE + " AND " + locks
                + ".objsubid = 2 AND " + locks + ".objid = ((" + keyExpr + ")::int8 & 4294967295)::oid AND "
                + locks + ".granted";
    }

    /** A statement that releases one hold of the session lock on {@code key}: one row, false if not held. */
    public static String unlockStatement(int key) {
        return "SELECT pg_advisory_unlock(" + NAMESPACE + ", " + key + ")";
    }

    /** Releases one hold of the session lock on {@code key}; false if this session did not hold it. */
    public static Uni<Boolean> unlock(SqlClient session, int key) {
        return session.query(unlockStatement(key)).execute().map(rows -> rows.iterator().next().getBoolean(0));
    }

    /**
     * Releases every session advisory lock {@code session} holds. For a pooled connection whose
     * last statement failed at a point where it may have taken a lock: nothing else takes session
     * locks on the service's pool, so a connection goes back to the pool holding none.
     */
    public static Uni<Void> releaseAll(SqlClient session) {
        return session.query("SELECT pg_advisory_unlock_all()").execute().replaceWithVoid();
    }
}
