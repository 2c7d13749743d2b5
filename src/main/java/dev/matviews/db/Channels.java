package dev.matviews.db;

/** The NOTIFY channels replicas wake each other on; named here so that every package can reach them. */
public final class Channels {

    /** Schedules, jobs and targets changed: every replica's scheduler plans again. */
    public static final String SCHEDULER = "matviews_scheduler";

    private Channels() {
    }
}
