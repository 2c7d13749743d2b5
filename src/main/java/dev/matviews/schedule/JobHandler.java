package dev.matviews.schedule;

import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.UUID;
import java.util.function.Consumer;

/** Runs the jobs of one type. */
public interface JobHandler {

    String type();

    /** Throws InvalidInputException if the payload does not fit this job type. */
    void validate(JsonObject payload);

    /** Runs one attempt; never fails the Uni, the outcome says how it went. */
    Uni<JobOutcome> run(Attempt attempt);

    /**
     * One attempt at a job.
     *
     * @param jobId      the job, held by {@code workerId} while the attempt runs
     * @param runStarted told the id of the refresh run as soon as there is one, so it can be cancelled
     */
    record Attempt(UUID jobId, String workerId, JsonObject payload, Duration maxRuntime, Consumer<UUID> runStarted) {
    }
}
