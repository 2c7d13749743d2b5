package dev.matviews.schedule;

import dev.matviews.config.InstanceId;
import dev.matviews.db.ListenConnection;
import dev.matviews.db.StartupWarmup;
import dev.matviews.freshness.TargetRepository;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.metrics.MatviewsMetrics;
import dev.matviews.runs.RunService;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fires due schedules and runs jobs, on every replica at once without doing anything twice.
 *
 * <p>Firing: in one transaction, due schedules are locked FOR UPDATE SKIP LOCKED, their jobs are
 * enqueued (keyed by schedule and due time) and next_run_at is advanced; a schedule row is
 * therefore fired by exactly one replica per due time. Working: due jobs are claimed with FOR
 * UPDATE SKIP LOCKED under a lease that is renewed while they run; expired leases are requeued.
 *
 * <p>Timing: no fixed tick. After each pass the scheduler asks the database how long until the
 * next thing is due (database time, not the pod clock) and sleeps exactly that long, or until a
 * NOTIFY says schedules or jobs changed.
 */
@ApplicationScoped
public class JobScheduler {

    private static final Logger LOG = Logger.getLogger(JobScheduler.class);
    private static final int FIRE_BATCH = 100;
    /**
     * While jobs keep ending, requeueing expired leases and firing due schedules run at most this
     * often; each ending job only claims the next one (a burst of 1,000 jobs ran 1,000 full passes).
     */
    private static final long HOUSEKEEPING_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** A pass that filled every free slot leaves the timer as it was: the queue is not empty. */
    private static final long KEEP_TIMER = Long.MIN_VALUE;
    /** How soon to look at targets again when another replica held the keeper's lock, or a pass failed. */
    private static final long KEEPER_RETRY_MS = 1000;
    /** The payload field of a refresh job the target keeper queued (the registration's id). */
    public static final String TARGET_FIELD = "target";

    private final Vertx vertx;
    private final Pool pool;
    private final ScheduleRepository schedules;
    private final JobRepository jobs;
    private final RunService runs;
    private final Map<String, JobHandler> handlers = new HashMap<>();
    /** The job types this service runs; rows of any other type in the shared tables are never touched. */
    private final String[] types;
    private final MatviewsConfig.Scheduler config;
    private final ListenConnection listen;
    private final String workerId;
    private final MatviewsMetrics metrics;
    private final StartupWarmup warmup;
    /** Freshness targets kept in the housekeeping pass; null for a scheduler without them. */
    private final TargetRepository targets;
    /** When the target keeper has something to do next (System.nanoTime), or Long.MAX_VALUE. */
    private volatile long keeperDueNanos = Long.MAX_VALUE;
    private final Map<UUID, Active> active = new ConcurrentHashMap<>();
    private final AtomicBoolean ticking = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();
    private final AtomicBoolean againFull = new AtomicBoolean();
    private volatile long lastHousekeeping = System.nanoTime() - HOUSEKEEPING_NANOS;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private volatile boolean accepting;
    /** Shutdown began: nothing starts the scheduler any more (a warm-up ending late included). */
    private volatile boolean closing;
    private volatile long timerId = -1;
    private long renewTimerId = -1;
    private ListenConnection.Subscription listening;

    /** A job this worker runs, and the refresh run of its current attempt once there is one. */
    private static final class Active {
        final Job job;
        volatile UUID runId;
        volatile boolean shuttingDown;
        volatile boolean leaseLost;
        volatile boolean cancelSent;

        Active(Job job) {
            this.job = job;
        }
    }

    @Inject
    public JobScheduler(Vertx vertx, Pool pool, ScheduleRepository schedules, JobRepository jobs, RunService runs,
                        Instance<JobHandler> handlers, MatviewsConfig config, InstanceId instanceId, ListenConnection listen,
                        MatviewsMetrics metrics, StartupWarmup warmup, TargetRepository targets) {
        this(vertx, pool, schedules, jobs, runs, handlers, config.scheduler(), instanceId.value(), listen, metrics, warmup,
                targets);
    }

    /** Also for starting extra schedulers by hand, as more replicas would be (tests, benchmarks). */
    public JobScheduler(Vertx vertx, Pool pool, ScheduleRepository schedules, JobRepository jobs, RunService runs,
                        Iterable<JobHandler> handlers, MatviewsConfig.Scheduler config, String instanceId,
                        ListenConnection listen, MatviewsMetrics metrics, StartupWarmup warmup,
                        TargetRepository targets) {
        this.metrics = metrics;
        this.targets = targets;
        this.warmup = warmup;
        this.vertx = vertx;
        this.pool = pool;
        this.schedules = schedules;
        this.jobs = jobs;
        this.runs = runs;
        handlers.forEach(h -> this.handlers.put(h.type(), h));
        this.types = this.handlers.keySet().stream().sorted().toArray(String[]::new);
        this.config = config;
        this.listen = listen;
        this.workerId = instanceId + "/" + UUID.randomUUID().toString().substring(0, 8);
    }

    public JobHandler handler(String type) {
        return handlers.get(type);
    }

    /** The job types this service claims, fires and cleans up. */
    public String[] handledTypes() {
        return types.clone();
    }

    /** Starts once the instance is warm (connections open, statements prepared), or at once without a warm-up. */
    void onStart(@Observes StartupEvent event) {
        if (config.enabled()) {
            if (warmup == null) {
                start();
            } else {
                warmup.done().subscribe().with(v -> {
                    if (!closing) {
                        start();
                    }
                });
            }
        }
    }

    /**
     * Shutdown begins: claim nothing more, and hand back (not fail) the jobs whose refreshes the
     * refresh service's drain cancels after its grace.
     */
    void onShutdownBegins(@Observes ShutdownDelayInitiatedEvent event) {
        stopClaiming();
    }

    /** The same, if shutdown began without a delay. */
    void onShutdownWithoutDelay(@Observes @Priority(5) ShutdownEvent event) {
        stopClaiming();
    }

    /** After the drain: whatever is still active is cancelled and handed back. */
    void onStop(@Observes ShutdownEvent event) {
        stop();
    }

    /**
     * Claims nothing more; running jobs keep their leases (renewed until {@link #stop()} ends), so
     * no other replica takes one over while its refresh drains.
     */
    private void stopClaiming() {
        closing = true;
        accepting = false;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        active.values().forEach(a -> a.shuttingDown = true);
    }

    public void start() {
        accepting = true;
        // (Re)listening wakes it too: whatever was announced while not listening is looked at.
        listening = listen.listen(ScheduleRepository.CHANNEL, this::wake, payload -> wake());
        long renewEvery = Math.max(100, config.lease().toMillis() / 3);
        renewTimerId = vertx.setPeriodic(renewEvery, id -> renewLeases());
        wake();
    }

    /** Plans again now: called on start, on NOTIFY and when a timer fires. */
    public void wake() {
        wake(true);
    }

    /**
     * A full pass (requeue expired leases, fire due schedules, claim, plan the next wake-up), or,
     * when a worker slot freed, a claim with the rest only if it is due ({@link #HOUSEKEEPING_NANOS})
     * or the queue ran dry.
     */
    private void wake(boolean full) {
        if (!accepting) {
            return;
        }
        if (full) {
            againFull.set(true);
        }
        if (ticking.getAndSet(true)) {
            again.set(true);
            return;
        }
        again.set(false);
        tick(againFull.getAndSet(false)).subscribe().with(this::sleep, e -> {
            LOG.warnf("scheduler pass failed: %s", e.getMessage());
            sleep(1000L);
        });
    }

    private Uni<Long> tick(boolean full) {
        boolean housekeeping = full || System.nanoTime() - lastHousekeeping >= HOUSEKEEPING_NANOS;
        Uni<Integer> fired = Uni.createFrom().item(0);
        if (housekeeping) {
            lastHousekeeping = System.nanoTime();
            fired = jobs.requeueExpired(pool, types)
                    .invoke(n -> {
                        if (n > 0) {
                            LOG.infof("requeued %d job(s) whose worker stopped renewing its lease", n);
                        }
                    })
                    .flatMap(n -> fireDue())
                    .call(this::keepTargets);
        }
        int free = config.workers() - active.size();
        return fired.flatMap(n -> claim())
                .flatMap(claimed -> !full && free > 0 && claimed == free ? Uni.createFrom().item(KEEP_TIMER)
                        : jobs.millisUntilNextDue(pool, types));
    }

    private void sleep(Long untilDueMs) {
        ticking.set(false);
        if (again.getAndSet(false)) {
            wake(false);
            return;
        }
        if (!accepting || (untilDueMs != null && untilDueMs == KEEP_TIMER)) {
            return;
        }
        long delay = untilDueMs == null ? config.maxSleep().toMillis()
                : Math.max(1, Math.min(untilDueMs, config.maxSleep().toMillis()));
        if (active.size() >= config.workers() && untilDueMs != null && untilDueMs <= 0) {
            delay = config.maxSleep().toMillis(); // all workers busy: a finishing job wakes us
        }
        long keeper = keeperDueNanos;
        if (keeper != Long.MAX_VALUE) {
            delay = Math.max(1, Math.min(delay, TimeUnit.NANOSECONDS.toMillis(keeper - System.nanoTime())));
        }
        long previous = timerId;
        if (previous >= 0) {
            vertx.cancelTimer(previous);
        }
        timerId = vertx.setTimer(delay, id -> wake());
    }

    /**
     * One pass of the target keeper (one replica at a time does the work); remembers when it has
     * something to do next. A failed pass is logged and tried again at the next housekeeping.
     */
    private Uni<Void> keepTargets() {
        if (targets == null) {
            return Uni.createFrom().voidItem();
        }
        return targets.keep(pool).invoke(pass -> {
            if (metrics != null) {
                pass.missed().forEach(m -> metrics.targetMissed(m.reason()));
            }
            pass.missed().forEach(m -> LOG.infof("registration %s missed its freshness target: %s", m.registrationId(),
                    m.reason()));
            if (!pass.held()) {
                // another replica's pass was running: look again within a second, in case it stops
                keeperDueNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KEEPER_RETRY_MS);
            } else {
                // no target at all: a new one wakes the scheduler (the registry NOTIFYs)
                keeperDueNanos = pass.nextInMs() == null ? Long.MAX_VALUE
                        : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, pass.nextInMs()));
            }
        }).onFailure().invoke(e -> {
            LOG.warnf("freshness target pass failed: %s", e.getMessage());
            keeperDueNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KEEPER_RETRY_MS);
        }).onFailure().recoverWithNull().replaceWithVoid();
    }

    /** Fires every due schedule, FIRE_BATCH per transaction; returns how many were fired. */
    Uni<Integer> fireDue() {
        return pool.withTransaction(tx -> schedules.databaseNow(tx).flatMap(now -> schedules.lockDue(tx, FIRE_BATCH, types)
                        .flatMap(due -> {
                            List<Tuple> enqueue = new ArrayList<>();
                            List<Tuple> advance = new ArrayList<>();
                            List<Tuple> invalid = new ArrayList<>();
                            for (Schedule s : due) {
                                plan(s, now, enqueue, advance, invalid);
                            }
                            return jobs.enqueueFired(tx, enqueue).flatMap(v -> schedules.advance(tx, advance))
                                    .flatMap(v -> schedules.disableInvalid(tx, invalid))
                                    .replaceWith(due.size());
                        })))
                .flatMap(count -> count == FIRE_BATCH ? fireDue().map(more -> count + more) : Uni.createFrom().item(count));
    }

    private void plan(Schedule s, Instant now, List<Tuple> enqueue, List<Tuple> advance, List<Tuple> invalid) {
        Instant due = s.nextRunAt().toInstant();
        Instant fired = null;
        Instant next;
        try {
            CronSchedule cron = CronSchedule.parse(s.cronExpr(), s.timezone());
            boolean missed = Duration.between(due, now).compareTo(config.missedGrace()) > 0;
            if (!missed) {
                enqueue.add(JobRepository.fired(s, due));
                fired = due;
                if (metrics != null) {
                    metrics.fired(Duration.between(due, now));
                }
            } else if (s.missedRunPolicy() == MissedRunPolicy.RUN_ONCE) {
                LOG.infof("schedule %s missed %s; running once now (missed-run policy run_once)", s.name(), due);
                enqueue.add(JobRepository.fired(s, due));
                fired = now;
            } else {
                LOG.infof("schedule %s missed %s; skipping to its next due time (missed-run policy skip)", s.name(), due);
            }
            next = cron.nextAfter(now, due).orElse(null);
        } catch (RuntimeException e) {
            // Shown, not silent: disabled with the reason, a WARN and a metric (it stayed enabled with no next run).
            String error = "cannot be evaluated: " + e.getMessage();
            LOG.warnf("schedule %s %s; disabled it (save it again to enable it)", s.name(), error);
            if (metrics != null) {
                metrics.scheduleDisabled();
            }
            invalid.add(Tuple.of(s.id(), error));
            return;
        }
        advance.add(Tuple.tuple().addUUID(s.id()).addOffsetDateTime(at(next)).addOffsetDateTime(at(fired)));
    }

    private static OffsetDateTime at(Instant instant) {
        return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private Uni<Integer> claim() {
        int free = config.workers() - active.size();
        if (free <= 0 || !accepting) {
            return Uni.createFrom().item(0);
        }
        return jobs.claim(pool, workerId, free, config.lease().toMillis(), types).map(claimed -> {
            claimed.forEach(this::execute);
            return claimed.size();
        });
    }

    private void execute(Job job) {
        Active a = new Active(job);
        active.put(job.id(), a);
        JobHandler handler = handlers.get(job.type());
        Uni<JobOutcome> attempt = handler == null
                ? Uni.createFrom().item(new JobOutcome.Permanent("no handler for job type " + job.type(), null))
                : handler.run(new JobHandler.Attempt(job.id(), workerId, new JsonObject(job.payload()),
                        Duration.ofMillis(job.maxRuntimeMs()), runId -> {
                            a.runId = runId;
                            jobs.attachRun(pool, job.id(), workerId, runId).subscribe().with(ok -> { }, e -> {
                                LOG.warnf("could not record run %s on job %s (%s); a cancel of the job reaches it"
                                        + " at the next lease renewal", runId, job.id(), e.getMessage());
                                if (metrics != null) {
                                    metrics.jobRunNotAttached();
                                }
                            });
                        }));
        attempt.onFailure().recoverWithItem(e -> new JobOutcome.Transient("unexpected: " + e.getMessage(), a.runId))
                .flatMap(outcome -> record(a, outcome))
                .onFailure().invoke(e -> LOG.warnf("could not record the outcome of job %s: %s", job.id(), e.getMessage()))
                .onFailure().recoverWithNull()
                .subscribe().with(ignored -> {
                    // this attempt's entry only: after a lost lease the job may run here again
                    active.remove(job.id(), a);
                    // a target's refresh ended: the keeper looks at its view again now
                    wake(job.payload() != null && job.payload().containsKey(TARGET_FIELD));
                });
    }

    private Uni<Boolean> record(Active a, JobOutcome outcome) {
        Job job = a.job;
        UUID runId = outcome.runId() != null ? outcome.runId() : a.runId;
        if (a.shuttingDown && outcome instanceof JobOutcome.Cancelled c) {
            return jobs.release(pool, job.id(), workerId, runId, "handed back at shutdown of " + workerId + ": " + c.error());
        }
        if (outcome instanceof JobOutcome.Completed c) {
            return jobs.finish(pool, job.id(), workerId, JobState.COMPLETED, c.note(), runId, 0);
        }
        if (outcome instanceof JobOutcome.Permanent p) {
            return jobs.finish(pool, job.id(), workerId, JobState.FAILED, p.error(), runId, 0);
        }
        if (outcome instanceof JobOutcome.Cancelled c) {
            return jobs.finish(pool, job.id(), workerId, JobState.CANCELED, c.error(), runId, 0);
        }
        JobOutcome.Transient t = (JobOutcome.Transient) outcome;
        if (job.attempts() >= job.maxAttempts()) {
            return jobs.finish(pool, job.id(), workerId, JobState.FAILED,
                    t.error() + " (after " + job.attempts() + " attempts)", runId, 0);
        }
        return jobs.finish(pool, job.id(), workerId, JobState.QUEUED, t.error(), runId, backoff(job.attempts()).toMillis());
    }

    /** Capped exponential backoff with up to 20 % jitter, so failing jobs do not retry in lockstep. */
    Duration backoff(int attempt) {
        long base = config.retryBase().toMillis();
        long capped = Math.min(config.retryCap().toMillis(), base << Math.min(30, Math.max(0, attempt - 1)));
        return Duration.ofMillis(capped + ThreadLocalRandom.current().nextLong(capped / 5 + 1));
    }

    /**
     * Keeps the leases of running jobs. A lease lost (this worker stalled past it, and the job was
     * requeued) leaves the refresh alone: it still holds the view's lock and refreshes the view,
     * and is recorded as its run; cancelling it would leave the view unrefreshed while the job,
     * taken over elsewhere and finding the view locked, is completed as skipped.
     */
    private void renewLeases() {
        for (Active a : active.values()) {
            if (a.leaseLost) {
                continue;
            }
            jobs.renew(pool, a.job.id(), workerId, config.lease().toMillis()).subscribe().with(lease -> {
                if (!lease.held()) {
                    a.leaseLost = true;
                    LOG.warnf("lost the lease of job %s (this worker stalled past it); its refresh %s runs to its end",
                            a.job.id(), a.runId);
                } else if (lease.cancelRequested() && a.runId != null && !a.cancelSent) {
                    // The canceller found no run on the job (its attachRun failed, or raced the cancel): cancel it here.
                    a.cancelSent = true;
                    LOG.infof("job %s was canceled; cancelling its refresh %s", a.job.id(), a.runId);
                    runs.cancel(a.runId).subscribe().with(run -> { },
                            e -> LOG.warnf("could not cancel refresh %s of canceled job %s: %s", a.runId, a.job.id(),
                                    e.getMessage()));
                }
            }, e -> LOG.debugf("lease renewal failed: %s", e.getMessage()));
        }
    }

    /**
     * Stops claiming, lets running jobs finish within the grace period, then cancels their
     * refreshes (recorded as cancelled) and hands their jobs back for another replica.
     */
    public void stop() {
        if (stopped.getAndSet(true)) {
            return;
        }
        stopClaiming();
        long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
        waitForIdle(deadline);
        if (!active.isEmpty()) {
            LOG.infof("shutdown: cancelling %d running job(s) after the grace period", active.size());
            for (Active a : active.values()) {
                a.shuttingDown = true;
                if (a.runId != null) {
                    runs.cancel(a.runId).subscribe().with(run -> { }, e -> { });
                }
            }
            waitForIdle(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        }
        if (renewTimerId >= 0) {
            vertx.cancelTimer(renewTimerId);
        }
        for (Active a : active.values()) {
            jobs.release(pool, a.job.id(), workerId, a.runId, "handed back at shutdown of " + workerId)
                    .await().atMost(Duration.ofSeconds(5));
        }
        if (listening != null) {
            listening.close();
        }
    }

    private void waitForIdle(long deadlineNanos) {
        while (!active.isEmpty() && System.nanoTime() < deadlineNanos) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
