package dev.matviews.schedule;

import dev.matviews.cascade.CascadeService;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.runs.RunService;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;

import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/** Inspecting and steering jobs. */
@ApplicationScoped
public class JobService {

    private final Pool pool;
    private final JobRepository jobs;
    private final RunService runs;
    private final CascadeService cascades;

    private static final int MAX_TYPE_LENGTH = 100;

    private final String[] types;

    public JobService(Pool pool, JobRepository jobs, RunService runs, CascadeService cascades,
                      Instance<JobHandler> handlers) {
        this.pool = pool;
        this.jobs = jobs;
        this.runs = runs;
        this.cascades = cascades;
        this.types = handlers.stream().map(JobHandler::type).sorted().toArray(String[]::new);
    }

    /** Jobs of other types (AllYourBase's own, on the same table) are shown but not steered from here. */
    private JobStateException notOurs(Job job) {
        return new JobStateException("job " + job.id() + " is of type " + job.type()
                + ", which matviews does not run; retry or cancel it where it is run");
    }

    private boolean ours(Job job) {
        return Arrays.asList(types).contains(job.type());
    }

    public Uni<List<Job>> list(String type, String state, UUID scheduleId, Integer limit) {
        return Uni.createFrom().deferred(() -> {
            JobState wanted = state == null ? null : JobState.parse(state);
            if (type != null && type.length() > MAX_TYPE_LENGTH) {
                throw new InvalidInputException("type must be at most " + MAX_TYPE_LENGTH + " characters");
            }
            int size = limit == null ? 50 : limit;
            if (size < 1 || size > 500) {
                throw new InvalidInputException("limit must be between 1 and 500");
            }
            return jobs.list(pool, type, wanted, scheduleId, size);
        });
    }

    public Uni<Job> get(UUID id) {
        return jobs.findById(pool, id).map(found -> found.orElseThrow(() -> new JobNotFoundException(id)));
    }

    public Uni<Job> retry(UUID id) {
        return jobs.retry(pool, id, types).flatMap(retried -> retried.isPresent()
                ? Uni.createFrom().item(retried.get())
                : get(id).map(job -> {
                    if (!ours(job)) {
                        throw notOurs(job);
                    }
                    throw new JobStateException("job " + id + " is " + job.state().dbName() + "; only failed or canceled jobs can be retried");
                }));
    }

    /**
     * A queued job is canceled at once; a running job's refresh, or its cascade, is cancelled
     * wherever it runs.
     */
    public Uni<Job> cancel(UUID id) {
        return jobs.cancel(pool, id, types).flatMap(marked -> {
            if (marked.isEmpty()) {
                return get(id).map(job -> {
                    if (!ours(job)) {
                        throw notOurs(job);
                    }
                    throw new JobStateException("job " + id + " is " + job.state().dbName() + "; only queued or running jobs can be canceled");
                });
            }
            Job job = marked.get();
            if (job.state() != JobState.RUNNING) {
                return Uni.createFrom().item(job);
            }
            Uni<Void> cascade = cascades.cancelOfJob(job.id()).onFailure().recoverWithNull();
            Uni<Void> run = job.lastRunId() == null ? Uni.createFrom().voidItem()
                    : runs.cancel(job.lastRunId()).replaceWithVoid().onFailure().recoverWithNull();
            return cascade.flatMap(v -> run).replaceWith(job);
        });
    }
}
