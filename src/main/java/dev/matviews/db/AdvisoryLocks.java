package dev.matviews.db;

/**
 * The key space of matviews' advisory locks: the two-int form (never used by Flyway's or most
 * applications' bigint locks), first key fixed. A view's refresh lock has the view's OID as second
 * key; second keys below 16384 (no user object has such an OID) are the service's own.
 */
public final class AdvisoryLocks {

    /** 'matv' in ASCII. */
    public static final int NAMESPACE = 0x6D617476;

    private AdvisoryLocks() {
    }
}
