package dev.matviews.refresh;

import dev.matviews.problem.MatviewsException;
import dev.matviews.registry.Registration;

import java.util.UUID;
import java.util.function.Function;

/**
 * How a refresh ended, as the pipeline recorded it: the one answer the API, the job handler and
 * the cascade switch over. Only a failure to learn the outcome at all (the database unreachable
 * before anything was recorded) is an exception instead.
 */
public sealed interface RefreshOutcome {

    /** The run that recorded this outcome; null when none was (see each case). */
    UUID runId();

    /** REFRESH ran: the registration as stored after its status write, and how long REFRESH took. */
    record Refreshed(Registration registration, UUID runId, long durationMs) implements RefreshOutcome {
        @Override
        public <T> T match(Function<Refreshed, T> refreshed, Function<Unchanged, T> unchanged, Function<Busy, T> busy,
                           Function<NotStarted, T> notStarted, Function<Failed, T> failed) {
            return refreshed.apply(this);
        }
    }

    /** skipUnchanged proved nothing changed: no REFRESH, a skipped run saying why. */
    record Unchanged(Registration registration, UUID runId, String reason) implements RefreshOutcome {
        @Override
        public <T> T match(Function<Refreshed, T> refreshed, Function<Unchanged, T> unchanged, Function<Busy, T> busy,
                           Function<NotStarted, T> notStarted, Function<Failed, T> failed) {
            return unchanged.apply(this);
        }
    }

    /**
     * Another session holds the view's lock and the stored outcome was left alone. A scheduled
     * refresh records a skipped run saying so ({@code runId}); a manual one records nothing (the
     * original's contract), and a cascade decides itself whether to wait or record a skip.
     */
    record Busy(String view, UUID runId, RefreshInProgressException answer) implements RefreshOutcome {
        @Override
        public <T> T match(Function<Refreshed, T> refreshed, Function<Unchanged, T> unchanged, Function<Busy, T> busy,
                           Function<NotStarted, T> notStarted, Function<Failed, T> failed) {
            return busy.apply(this);
        }
    }

    /** Nothing started and nothing was recorded: why, and the answer to give. */
    record NotStarted(Reason reason, MatviewsException answer) implements RefreshOutcome {
        @Override
        public <T> T match(Function<Refreshed, T> refreshed, Function<Unchanged, T> unchanged, Function<Busy, T> busy,
                           Function<NotStarted, T> notStarted, Function<Failed, T> failed) {
            return notStarted.apply(this);
        }
        @Override
        public UUID runId() {
            return null;
        }
    }

    /** Why a refresh did not start. */
    enum Reason {
        /** No such registration (or it was unregistered meanwhile). */
        UNREGISTERED,
        /** Every refresh slot of this instance is taken. */
        CAPACITY,
        /** This instance is shutting down. */
        SHUTTING_DOWN
    }

    /** It failed, recorded as {@code failure} says (run {@code runId}, null if even that write failed). */
    record Failed(RefreshFailure failure, UUID runId, MatviewsException answer) implements RefreshOutcome {
        @Override
        public <T> T match(Function<Refreshed, T> refreshed, Function<Unchanged, T> unchanged, Function<Busy, T> busy,
                           Function<NotStarted, T> notStarted, Function<Failed, T> failed) {
            return failed.apply(this);
        }
    }

    /**
     * Folds this outcome by its case; every caller names all five (Java 17 has no pattern switch,
     * and this keeps the compiler checking that none is forgotten).
     */
    <T> T match(Function<Refreshed, T> refreshed, Function<Unchanged, T> unchanged, Function<Busy, T> busy,
                Function<NotStarted, T> notStarted, Function<Failed, T> failed);

    /** The answer to give a caller waiting for a refreshed view, for the outcomes that are not one; else null. */
    default MatviewsException answer() {
        return match(r -> null, u -> null, Busy::answer, NotStarted::answer, Failed::answer);
    }
}
