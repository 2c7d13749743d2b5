package dev.matviews.config;

/**
 * Limits of requests, written once: the code that checks them and the OpenAPI document that shows
 * them read the same constants (the text forms are compile-time constants, as annotations need).
 */
public final class Limits {

    private Limits() {
    }

    /** Items per page of a listing (registrations, catalog), and the default. */
    public static final int PAGE_MAX = 1000;
    public static final String PAGE_MAX_TEXT = "" + PAGE_MAX;
    public static final int PAGE_DEFAULT = 100;
    public static final String PAGE_DEFAULT_TEXT = "" + PAGE_DEFAULT;

    /** Nodes of one cascade refreshed at once. */
    public static final int PARALLELISM_MIN = 1;
    public static final int PARALLELISM_MAX = 1000;
    public static final String PARALLELISM_MIN_TEXT = "" + PARALLELISM_MIN;
    public static final String PARALLELISM_MAX_TEXT = "" + PARALLELISM_MAX;

    /** Whether {@code parallelism} is within its limits. */
    public static boolean parallelismAllowed(int parallelism) {
        return parallelism >= PARALLELISM_MIN && parallelism <= PARALLELISM_MAX;
    }
}
