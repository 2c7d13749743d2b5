package dev.matviews.registry;

/** The per-registration timeouts: whole milliseconds, 0 for none, null for the service default. */
public final class Timeouts {

    /** A day: anything longer is more likely a unit mistake than a wish. */
    public static final int MAX_MS = 86_400_000;

    private Timeouts() {
    }
}
