package dev.matviews.refresh;

import dev.matviews.config.InstanceId;
import dev.matviews.db.AdvisoryLocks;
import dev.matviews.db.BackendCancel;
import dev.matviews.db.LostConnection;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.metrics.MatviewsMetrics;
import dev.matviews.problem.MatviewsException;
import dev.matviews.registry.MatviewGoneException;
import dev.matviews.registry.RefreshMode;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationNotFoundException;
import dev.matviews.runs.Run;
import dev.matviews.runs.RunStatus;
import dev.matviews.runs.Trigger;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Refresh-now, and the one owner of the refresh lock's lifetime.
 *
 * <p>Everything happens on one pinned connection, because a session advisory lock belongs to
 * the session that took it: preflight + lock + running run (1 round trip, committed without
 * waiting for its WAL flush), then settings + REFRESH + success record + unlock in one implicit
 * transaction (1 round trip, the one commit that waits). The onTermination stage of the locked
 * part is the one place that guarantees the release on every path: it unlocks unless the
 * success message already did (1 more round trip on the other paths). A refresh of a view this
 * instance is refreshing, or trying to lock, right now is answered 409 without a round trip of
 * its own; one whose lock another instance holds learns so in the preflight.
 *
 * <p>A preflight that fails may have taken the lock before failing: then every
 * advisory lock of the session is released. No connection goes back to the pool, and no unlock
 * runs, while a cancel request sent for it may still land; an unlock hit by a cancel anyway is
 * tried again. A failure is recorded on the same connection after the rollback; only if that
 * connection died is it recorded through the pool, after the pinned connection was given back
 * (no second connection is ever held, so a pool of one cannot deadlock).
 *
 * <p>The work is detached from its caller: a synchronous caller that goes away (HTTP client
 * disconnect) cancels the running statement on the server, and the pipeline still records the
 * outcome and releases the lock; an asynchronous caller is answered once the run has started.
 */
@ApplicationScoped
public class RefreshService {

    private static final Logger LOG = Logger.getLogger(RefreshService.class);
    private static final String CALLER_GONE = "the client went away";
    /** Tries of a preflight whose connection broke under it (a failover, a terminated backend). */
    private static final int PREFLIGHT_RETRIES = 3;
    private static final Duration PREFLIGHT_RETRY_BACKOFF = Duration.ofMillis(25);

    private final BackendCancel canceller;
    private final Pool pool;
    private final RefreshRepository repository;
    private final MatviewsConfig.Refresh config;
    private final String instanceId;
    private final MatviewsMetrics metrics;
    private final RefreshAdmission admission;
    /** Registrations whose lock a pinned connection of this instance holds (or is letting go of). */
    private final Map<UUID, Registration> locked = new ConcurrentHashMap<>();
    /** Registrations whose preflight runs now; completes with the registration if the view turned out busy. */
    private final Map<UUID, CompletableFuture<Registration>> trying = new ConcurrentHashMap<>();

    public RefreshService(Pool pool, RefreshRepository repository, MatviewsConfig config,
                          InstanceId instanceId, MatviewsMetrics metrics, BackendCancel canceller,
                          RefreshAdmission admission) {
        this.pool = pool;
        this.canceller = canceller;
        this.repository = repository;
        this.config = config.refresh();
        this.instanceId = instanceId.value();
        this.metrics = metrics;
        this.admission = admission;
    }

    /** Refreshes and answers with the outcome; a caller that cancels cancels the REFRESH. */
    public Uni<RefreshOutcome> refresh(UUID id) {
        return Uni.createFrom().deferred(() -> {
            Execution execution = launch(id, Trigger.MANUAL);
            return toUni(execution.done).onCancellation().invoke(() -> execution.cancel(CALLER_GONE));
        });
    }

    /** Starts a refresh and answers with its run as soon as it is running; the refresh goes on alone. */
    public Uni<Run> start(UUID id, Trigger trigger) {
        return Uni.createFrom().deferred(() -> toUni(launch(id, trigger).started));
    }

    /** A refresh started on behalf of a job: when its run started, and its outcome. */
    public record Handle(Uni<Run> started, Uni<RefreshOutcome> done) {
    }

    /**
     * Starts a refresh bounded by {@code maxRuntime} (as statement_timeout, if shorter than the
     * registration's), owned by nobody: only a run cancel stops it.
     */
    public Handle launch(UUID id, Trigger trigger, Duration maxRuntime) {
        Execution execution = execute(id, trigger, maxRuntime, null);
        return new Handle(toUni(execution.started), toUni(execution.done));
    }

    /** Starts a refresh as a node of cascade {@code cascadeId}: its run says so, its trigger is cascade. */
    public Handle launchInCascade(UUID id, UUID cascadeId) {
        Execution execution = execute(id, Trigger.CASCADE, null, cascadeId);
        return new Handle(toUni(execution.started), toUni(execution.done));
    }

    private Execution launch(UUID id, Trigger trigger) {
        return execute(id, trigger, null, null);
    }

    private Execution execute(UUID id, Trigger trigger, Duration maxRuntime, UUID cascadeId) {
        Execution execution = new Execution(canceller);
        execution.maxRuntime = maxRuntime;
        execution.cascadeId = cascadeId;
        admit(execution, id, trigger);
        return execution;
    }

    /**
     * Starts the refresh unless this instance already knows it would lose: another of its
     * refreshes holds the view's lock, or is trying it right now (then this one waits for that
     * preflight's answer: a refresh running anywhere means 409 for both). So a burst of requests
     * for one view costs one preflight per instance, and none of them takes a refresh slot.
     */
    private void admit(Execution execution, UUID id, Trigger trigger) {
        if (admission.draining()) {
            execution.complete(new RefreshOutcome.NotStarted(RefreshOutcome.Reason.SHUTTING_DOWN,
                    new ShuttingDownException(instanceId)));
            return;
        }
        Registration holder = locked.get(id);
        if (holder != null) {
            lost(execution, holder, trigger);
            return;
        }
        CompletableFuture<Registration> attempt = new CompletableFuture<>();
        CompletableFuture<Registration> pending = trying.putIfAbsent(id, attempt);
        if (pending != null) {
            pending.whenComplete((busy, e) -> {
                if (busy != null) {
                    lost(execution, busy, trigger);
                } else {
                    admit(execution, id, trigger);
                }
            });
            return;
        }
        Optional<RefreshOutcome.NotStarted> refused = admission.admit(execution);
        if (refused.isPresent()) {
            settle(id, attempt, null);
            execution.complete(refused.get());
            return;
        }
        execution.attempt = attempt;
        // The connection goes back to the pool only once no cancel request sent for it can still land.
        pool.withConnection(conn -> onPinned(execution.attach(conn), id, trigger, execution)
                        .onTermination().call(execution::detach))
                // A connection that broke before its preflight ran: a fresh one runs the refresh.
                .onFailure(PreflightConnectionLost.class).retry()
                .withBackOff(PREFLIGHT_RETRY_BACKOFF, PREFLIGHT_RETRY_BACKOFF.multipliedBy(4)).atMost(PREFLIGHT_RETRIES)
                .onFailure(PreflightConnectionLost.class).transform(Throwable::getCause)
                .onFailure(UnrecordedFailure.class).recoverWithUni(this::recordThroughPool)
                // Refreshed, then unregistered before the status write could read it back.
                .onFailure(RegistrationNotFoundException.class).recoverWithItem(e -> new RefreshOutcome.NotStarted(
                        RefreshOutcome.Reason.UNREGISTERED, (RegistrationNotFoundException) e))
                .onTermination().invoke(() -> {
                    settle(id, attempt, null);
                    admission.release(execution);
                })
                .subscribe().with(execution::complete, execution::fail);
    }

    private void lost(Execution execution, Registration busy, Trigger trigger) {
        busy(pool, busy, trigger, execution.cascadeId).subscribe().with(execution::complete, execution::fail);
    }

    /**
     * The view's lock is held elsewhere. A scheduled refresh records a skipped run saying so (its
     * job's history shows it); a manual one records nothing, as the original did; a cascade node
     * is the cascade's to wait for or skip.
     */
    private Uni<RefreshOutcome> busy(SqlClient client, Registration r, Trigger trigger, UUID cascadeId) {
        metrics.lockContention(trigger.dbName());
        RefreshInProgressException answer = new RefreshInProgressException(r.qualifiedName());
        if (trigger != Trigger.SCHEDULE) {
            return Uni.createFrom().item(new RefreshOutcome.Busy(r.qualifiedName(), null, answer));
        }
        return repository.insertSkipped(client, r.id(), trigger, instanceId, "skipped: " + answer.getMessage(), cascadeId)
                .map(run -> new RefreshOutcome.Busy(r.qualifiedName(), run == null ? null : run.id(), answer));
    }

    /**
     * The preflight of {@code id} has answered: refreshes waiting for it learn whether the view is
     * being refreshed ({@code busy}, answered 409) or not (null: they try themselves).
     */
    private void settle(UUID id, CompletableFuture<Registration> attempt, Registration busy) {
        trying.remove(id, attempt);
        attempt.complete(busy);
    }

    private Uni<RefreshOutcome> onPinned(SqlConnection conn, UUID id, Trigger trigger, Execution execution) {
        return repository.preflightAndLock(conn, id, trigger, instanceId, execution.cascadeId)
                .invoke(preflight -> {
                    if (preflight instanceof Preflight.Locked held) {
                        locked.put(id, held.registration());
                    }
                    settle(id, execution.attempt, preflight instanceof Preflight.Busy busy ? busy.registration()
                            : preflight instanceof Preflight.Started started ? started.registration() : null);
                })
                // It may have failed after taking the lock (a cancel landing in it, a row that does
                // not map): whatever this session holds goes before the connection does.
                // A broken session holds nothing any more: only its pending cancels are awaited.
                .onFailure().call(e -> LostConnection.describe(e) != null ? execution.detach() : releaseAll(conn, execution))
                .onFailure(e -> LostConnection.describe(e) != null).transform(PreflightConnectionLost::new)
                .flatMap(preflight -> afterPreflight(conn, id, trigger, execution, preflight));
    }

    private Uni<RefreshOutcome> afterPreflight(SqlConnection conn, UUID id, Trigger trigger, Execution execution,
                                               Preflight preflight) {
        if (preflight instanceof Preflight.Unknown) {
            return Uni.createFrom().item(new RefreshOutcome.NotStarted(RefreshOutcome.Reason.UNREGISTERED,
                    new RegistrationNotFoundException(id)));
        }
        if (preflight instanceof Preflight.Unchanged unchanged) {
            // Recorded by the preflight; no lock was taken, nothing to release.
            execution.started(unchanged.run());
            metrics.unchanged(trigger.dbName());
            return Uni.createFrom().item(new RefreshOutcome.Unchanged(unchanged.registration(), unchanged.run().id(),
                    unchanged.run().error()));
        }
        if (preflight instanceof Preflight.Busy busy) {
            // Losing the lock leaves the stored outcome alone: the winner owns it.
            return busy(conn, busy.registration(), trigger, execution.cascadeId);
        }
        if (preflight instanceof Preflight.Gone gone) {
            Registration r = gone.registration();
            return failBeforeStart(conn, r, trigger, execution.cascadeId, new RefreshFailure(RefreshFailure.Kind.GONE,
                    RunStatus.ERROR, null, "matview no longer exists"), new MatviewGoneException(r.qualifiedName()));
        }
        Preflight.Locked held = (Preflight.Locked) preflight;
        // Deferred: even a failure while building the locked part ends in the release below.
        return Uni.createFrom().deferred(() -> underLock(conn, held, trigger, execution))
                .onTermination().call(() -> release(conn, held, execution)
                        .invoke(() -> locked.remove(id, held.registration())));
    }

    private Uni<RefreshOutcome> underLock(SqlConnection conn, Preflight.Locked locked, Trigger trigger,
                                         Execution execution) {
        Registration r = locked.registration();
        if (locked instanceof Preflight.Refused refused) {
            String detail = refused.refusal().detail(r);
            RefreshFailure failure = new RefreshFailure(RefreshFailure.Kind.NOT_PERMITTED, RunStatus.ERROR,
                    RefreshNotPermittedException.SQLSTATE, detail);
            return failBeforeStart(conn, r, trigger, execution.cascadeId, failure,
                    new RefreshNotPermittedException(detail, failure));
        }
        if (locked instanceof Preflight.Unready unready) {
            // PostgreSQL's order: populated first, then the index.
            if (!unready.populated()) {
                String detail = "materialized view " + r.qualifiedName() + " is not populated (created WITH NO DATA"
                        + " or never refreshed); CONCURRENTLY needs one standard refresh first";
                RefreshFailure failure = new RefreshFailure(RefreshFailure.Kind.NOT_POPULATED, RunStatus.ERROR, null, detail);
                return failBeforeStart(conn, r, trigger, execution.cascadeId, failure,
                        new NotPopulatedException(detail, failure));
            }
            String detail = "refreshing " + r.qualifiedName() + " concurrently needs a unique index on plain"
                    + " columns that is valid, immediate, non-partial and btree; "
                    + (unready.rejectedIndexes() == null ? "it has no unique index"
                    : "none qualifies: " + unready.rejectedIndexes());
            RefreshFailure failure = new RefreshFailure(RefreshFailure.Kind.UNIQUE_INDEX_REQUIRED, RunStatus.ERROR, null,
                    detail);
            return failBeforeStart(conn, r, trigger, execution.cascadeId, failure,
                    new UniqueIndexRequiredException(detail, failure));
        }
        Preflight.Started start = (Preflight.Started) locked;
        Run run = start.run();
        execution.started(run);
        if (execution.cancelReason() != null) {
            String detail = "refresh of " + r.qualifiedName() + " cancelled before it started: "
                    + execution.cancelReason();
            RefreshFailure failure = new RefreshFailure(RefreshFailure.Kind.CANCELLED, RunStatus.CANCELLED,
                    RefreshFailure.QUERY_CANCELED, detail);
            return finish(conn, run, failure, 0, new RefreshCancelledException(detail, failure));
        }
        RefreshSettings settings = settingsFor(r, execution.maxRuntime);
        long started = System.nanoTime();
        execution.unlockSent = true;
        return repository.refreshRecordAndUnlock(conn, run, locked.lockKey(), settings, start.tracked())
                .onItem().transform(refreshed -> {
                    if (!refreshed.unlocked()) {
                        LOG.warnf("refresh lock of %s was not held at release", r.qualifiedName());
                    }
                    // Released, or never held by this session: another unlock would find nothing.
                    execution.unlocked = true;
                    Registration after = refreshed.registration()
                            .orElseThrow(() -> new RegistrationNotFoundException(r.id()));
                    metrics.refreshed(run.refreshMode().dbName(), trigger.dbName(),
                            RunStatus.SUCCESS.dbName(), Duration.ofMillis(after.lastRefreshDurationMs()));
                    return (RefreshOutcome) new RefreshOutcome.Refreshed(after, run.id(), after.lastRefreshDurationMs());
                })
                .onFailure(e -> !(e instanceof RegistrationNotFoundException)).recoverWithUni(e -> {
                    int elapsed = (int) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    return failedRefresh(conn, r, run, settings, elapsed, e, execution.cancelReason());
                });
    }

    private RefreshSettings settingsFor(Registration r, Duration maxRuntime) {
        int statementTimeout = r.statementTimeoutMs() != null ? r.statementTimeoutMs()
                : (int) config.statementTimeout().toMillis();
        if (maxRuntime != null && (statementTimeout == 0 || maxRuntime.toMillis() < statementTimeout)) {
            statementTimeout = (int) Math.min(Integer.MAX_VALUE, maxRuntime.toMillis());
        }
        int lockTimeout = r.lockTimeoutMs() != null ? r.lockTimeoutMs() : (int) config.lockTimeout().toMillis();
        return new RefreshSettings(statementTimeout, lockTimeout, (int) config.connectionCheckInterval().toMillis());
    }

    /** Records a failed REFRESH as {@link RefreshFailure#classify} says, and answers with its exception. */
    private Uni<RefreshOutcome> failedRefresh(SqlConnection conn, Registration r, Run run, RefreshSettings settings,
                                             int elapsedMs, Throwable e, String cancelReason) {
        if (!(e instanceof PgException pg)) {
            RefreshFailure lost = RefreshFailure.connectionLost(e.getMessage());
            String detail = "refresh of " + r.qualifiedName() + " failed: " + lost.recorded();
            return Uni.createFrom().failure(new UnrecordedFailure(run, lost, detail, elapsedMs,
                    new RefreshFailedException(detail, lost)));
        }
        RefreshFailure failure = RefreshFailure.classify(pg.getSqlState(), pg.getErrorMessage(),
                run.refreshMode() == RefreshMode.CONCURRENT, cancelReason, elapsedMs, settings);
        return finish(conn, run, failure, elapsedMs, answer(r, failure, cancelReason));
    }

    /** The answer to the caller for a classified failure; the API maps its class to a problem type. */
    private static MatviewsException answer(Registration r, RefreshFailure f, String cancelReason) {
        String view = r.qualifiedName();
        return switch (f.kind()) {
            case CANCELLED -> new RefreshCancelledException(cancelReason != null ? f.recorded()
                    : "refresh of " + view + " was cancelled: " + f.recorded(), f);
            case STATEMENT_TIMEOUT -> new RefreshTimeoutException("refresh of " + view + " timed out: " + f.recorded(), f);
            case LOCK_TIMEOUT -> new RefreshTimeoutException("refresh of " + view + " timed out waiting for its"
                    + " table lock: " + f.recorded(), f);
            case UNIQUE_INDEX_REQUIRED -> new UniqueIndexRequiredException(f.recorded(), f);
            case NOT_POPULATED -> new NotPopulatedException(f.recorded(), f);
            // Passed the preflight, so it is the view owner's privilege on what the view reads.
            case NOT_PERMITTED -> new RefreshNotPermittedException("refresh of " + view + " refused: " + f.recorded(), f);
            case GONE -> new MatviewGoneException(view);
            case FAILED, CONNECTION_LOST -> new RefreshFailedException("refresh of " + view + " failed: " + f.recorded(), f);
        };
    }

    /** Records a failure before any run started: a failed run of its own, answered with {@code answer}. */
    private Uni<RefreshOutcome> failBeforeStart(SqlConnection conn, Registration r, Trigger trigger, UUID cascadeId,
                                                RefreshFailure failure, MatviewsException answer) {
        metrics.refreshed(r.refreshMode().dbName(), trigger.dbName(),
                RunStatus.ERROR.dbName(), Duration.ZERO);
        return repository.insertFailed(conn, r.id(), trigger, instanceId, failure.recorded(), failure.sqlState(),
                        cascadeId)
                .map(runId -> new RefreshOutcome.Failed(failure, runId, answer.withRun(runId)));
    }

    /** Finishes the run on the pinned connection as {@code failure} says, answered with {@code answer}. */
    private Uni<RefreshOutcome> finish(SqlConnection conn, Run run, RefreshFailure failure, int durationMs,
                                       MatviewsException answer) {
        answer.withRun(run.id());
        metrics.refreshed(run.refreshMode().dbName(),
                run.trigger().dbName(), failure.status().dbName(), Duration.ofMillis(durationMs));
        return repository.finishFailed(conn, run.id(), failure.status(), failure.recorded(), failure.sqlState(), durationMs)
                .onFailure().transform(e -> new UnrecordedFailure(run, failure, failure.recorded(), durationMs, answer))
                .map(ignored -> new RefreshOutcome.Failed(failure, run.id(), answer));
    }

    /**
     * The pinned connection is gone by now; a pooled connection records what it could not. The
     * pool may first hand out the very connection that just broke (it learns of the break on the
     * next write), hence a few retries; the write is idempotent.
     */
    private Uni<RefreshOutcome> recordThroughPool(Throwable t) {
        UnrecordedFailure u = (UnrecordedFailure) t;
        u.answer.withRun(u.run.id());
        return Uni.createFrom().deferred(() -> repository.finishFailed(pool, u.run.id(), u.failure.status(), u.error,
                        u.failure.sqlState(), u.durationMs))
                .onFailure().retry().withBackOff(Duration.ofMillis(50), Duration.ofMillis(500)).atMost(4)
                .onFailure().invoke(e -> LOG.errorf("could not record the failed refresh run %s of %s.%s: %s",
                        u.run.id(), u.run.schemaName(), u.run.viewName(), e.getMessage()))
                .onItemOrFailure().transform((ignored, e) -> new RefreshOutcome.Failed(u.failure, u.run.id(), u.answer));
    }

    /**
     * Unlocks without ever failing the pipeline: a refresh that succeeded stays a success. No
     * cancel request may land in the unlock: those this pipeline sent are awaited first, and a
     * run cancel (pg_cancel_backend from another session) that hits it anyway is outlived by
     * trying again. If the unlock cannot run, the session is broken and its locks end with its
     * backend.
     */
    private Uni<Void> release(SqlConnection conn, Preflight.Locked locked, Execution execution) {
        if (execution.unlocked) {
            return Uni.createFrom().voidItem();
        }
        String view = locked.registration().qualifiedName();
        return execution.detach()
                .chain(() -> AdvisoryLocks.unlock(conn, locked.lockKey()))
                .onFailure(RefreshService::cancelled).retry().atMost(3)
                .onItem().invoke(released -> {
                    if (!released && execution.unlockSent) {
                        // The success message failed after (or in) its own unlock, at the commit.
                        LOG.debugf("refresh lock of %s was released by the failed refresh message", view);
                    } else if (!released) {
                        LOG.warnf("refresh lock of %s was not held at release", view);
                    }
                })
                .onFailure().invoke(e -> LOG.warnf("could not release the refresh lock of %s: %s", view, e.getMessage()))
                .onFailure().recoverWithNull()
                .replaceWithVoid();
    }

    /** The same, when which lock this session may hold is unknown. */
    private Uni<Void> releaseAll(SqlConnection conn, Execution execution) {
        return execution.detach()
                .chain(() -> AdvisoryLocks.releaseAll(conn))
                .onFailure(RefreshService::cancelled).retry().atMost(3)
                .onFailure().invoke(e -> LOG.warnf("could not release the locks of a failed preflight: %s",
                        e.getMessage()))
                .onFailure().recoverWithNull();
    }

    private static boolean cancelled(Throwable e) {
        return e instanceof PgException pg && RefreshFailure.QUERY_CANCELED.equals(pg.getSqlState());
    }

    /**
     * Records that a refresh of registration {@code registrationId} did not happen (another
     * session held its lock, or its cascade skipped it), as a node of {@code cascadeId} (null:
     * none); the run with status skipped, or null if the registration is gone.
     */
    public Uni<Run> recordSkipped(UUID registrationId, Trigger trigger, String reason, UUID cascadeId) {
        return repository.insertSkipped(pool, registrationId, trigger, instanceId, reason, cascadeId);
    }

    /** Completes when the future does, without cancelling the future when the subscriber leaves. */
    private static <T> Uni<T> toUni(CompletableFuture<T> future) {
        return Uni.createFrom().emitter(emitter -> future.whenComplete((item, failure) -> {
            if (failure != null) {
                emitter.fail(failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure);
            } else {
                emitter.complete(item);
            }
        }));
    }

    /**
     * The pinned connection broke before the preflight answered. Its session ended, taking any
     * lock with it, and its statement was rolled back unless its commit was what got lost: then a
     * run is left running with no session, which the abandoned-run sweep records as such.
     */
    private static final class PreflightConnectionLost extends RuntimeException {
        PreflightConnectionLost(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    /** A failure whose record could not be written on the pinned connection. */
    private static final class UnrecordedFailure extends RuntimeException {
        final Run run;
        final RefreshFailure failure;
        /** What the run records as its error. */
        final String error;
        final int durationMs;
        final MatviewsException answer;

        UnrecordedFailure(Run run, RefreshFailure failure, String error, int durationMs, MatviewsException answer) {
            super(error, null, false, false);
            this.run = run;
            this.failure = failure;
            this.error = error;
            this.durationMs = durationMs;
            this.answer = answer;
        }
    }

    /**
     * One refresh in flight: when its run started, when it ended, and a way for a synchronous
     * caller that went away to cancel whatever the pinned connection runs. The flag is checked
     * before REFRESH starts, so a caller gone during the preflight never starts one.
     */
    private static final class Execution implements RefreshAdmission.Running {
        private final BackendCancel canceller;
        final CompletableFuture<Run> started = new CompletableFuture<>();
        final CompletableFuture<RefreshOutcome> done = new CompletableFuture<>();
        /** Why this instance cancelled it (its caller went away, shutdown); null while it did not. */
        private volatile String cancelReason;
        volatile Duration maxRuntime;
        /** The cascade this refresh is a node of, or null. */
        volatile UUID cascadeId;
        /** This refresh's preflight, which other refreshes of the view may wait for. */
        volatile CompletableFuture<Registration> attempt;
        /** The success message, which ends with the unlock, was sent; set on the pipeline only. */
        volatile boolean unlockSent;
        /** That message ran its unlock: the onTermination stage has nothing left to do. */
        volatile boolean unlocked;
        /** The pinned connection while cancel requests may still be sent for it; guarded by this. */
        private SqlConnection conn;
        /** Completes once the cancel requests sent so far have been delivered; guarded by this. */
        private CompletableFuture<Void> cancelsSent = CompletableFuture.completedFuture(null);

        Execution(BackendCancel canceller) {
            this.canceller = canceller;
        }

        synchronized SqlConnection attach(SqlConnection conn) {
            this.conn = conn;
            return conn;
        }

        void started(Run run) {
            started.complete(run);
        }

        /** Ended as {@code outcome}; a caller waiting for the run to start gets the answer if it never did. */
        void complete(RefreshOutcome outcome) {
            MatviewsException answer = outcome.answer();
            if (answer != null) {
                started.completeExceptionally(answer);
            }
            done.complete(outcome);
        }

        void fail(Throwable failure) {
            started.completeExceptionally(failure);
            done.completeExceptionally(failure);
        }

        String cancelReason() {
            return cancelReason;
        }

        /**
         * This instance cancels it (its caller went away, shutdown): cancel whatever the pinned
         * connection runs now. A cancel request hits whatever the backend runs when it arrives,
         * so none is sent once the pipeline detached from the connection.
         */
        @Override
        public synchronized void cancel(String reason) {
            if (done.isDone()) {
                return;
            }
            cancelReason = reason;
            if (conn == null) {
                return;
            }
            CompletableFuture<Void> sent = new CompletableFuture<>();
            canceller.cancel(conn).subscribe().with(
                    ok -> {
                        LOG.debugf("sent a cancel request for a refresh: %s", reason);
                        sent.complete(null);
                    },
                    e -> {
                        LOG.warnf("could not cancel a refresh (%s): %s", reason, e.getMessage());
                        sent.complete(null);
                    });
            cancelsSent = CompletableFuture.allOf(cancelsSent, sent);
        }

        /**
         * No more cancel requests for this connection; completes once those already sent were
         * delivered (the server has signalled the backend, which acts on it at once or, idle,
         * ignores it), so none lands in a later statement or in another borrower's.
         */
        Uni<Void> detach() {
            CompletableFuture<Void> pending;
            synchronized (this) {
                conn = null;
                pending = cancelsSent;
            }
            return Uni.createFrom().completionStage(pending).onFailure().recoverWithNull().replaceWithVoid();
        }
    }
}
