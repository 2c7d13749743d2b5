package dev.matviews.events;

import dev.matviews.alerts.Alert;
import dev.matviews.cascade.CascadeEvent;
import dev.matviews.runs.Run;

/**
 * One event of the stream: a run or a cascade that started or ended, or an alert raised, with its
 * id in the one order of all three.
 */
public sealed interface StreamEvent {

    long eventId();

    /** The SSE event name. */
    String name();

    /** What the event carries as its data. */
    Object data();

    record RunChanged(Run run) implements StreamEvent {
        @Override
        public long eventId() {
            return run.eventId();
        }

        @Override
        public String name() {
            return run.finished() ? "run-finished" : "run-started";
        }

        @Override
        public Object data() {
            return run;
        }
    }

    record CascadeChanged(CascadeEvent cascade) implements StreamEvent {
        @Override
        public long eventId() {
            return cascade.eventId();
        }

        @Override
        public String name() {
            return cascade.finished() ? "cascade-finished" : "cascade-started";
        }

        @Override
        public Object data() {
            return cascade;
        }
    }

    /** A scheduled refresh failed, a registration was suspended, a target missed, a failing view recovered. */
    record AlertRaised(Alert alert) implements StreamEvent {
        @Override
        public long eventId() {
            return alert.eventId();
        }

        @Override
        public String name() {
            return "alert";
        }

        @Override
        public Object data() {
            return alert;
        }
    }
}
