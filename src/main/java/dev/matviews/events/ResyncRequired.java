package dev.matviews.events;

/**
 * Ends an event stream that can no longer be complete: its client fell too far behind, or
 * more runs changed since its Last-Event-ID than are replayed. The client reloads what it shows
 * and resumes after {@code lastEventId}.
 */
public final class ResyncRequired extends RuntimeException {

    private final long lastEventId;

    ResyncRequired(String reason, long lastEventId) {
        super(reason, null, false, false);
        this.lastEventId = lastEventId;
    }

    public long lastEventId() {
        return lastEventId;
    }
}
