package dev.matviews.refresh;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.registry.RefreshMode;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationNotFoundException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Refresh-now, and the one owner of the refresh lock's lifetime.
 *
 * <p>Everything happens on one pinned connection, because a session advisory lock belongs to
 * the session that took it: preflight + lock (1 round trip), REFRESH + success record in one
 * implicit transaction (1 round trip), unlock in an onTermination stage (1 round trip). A failure
 * is recorded on the same connection after the rollback; only if that connection died is it
 * recorded through the pool, after the pinned connection was given back (no second connection
 * is ever held, so a pool of one cannot deadlock).
 *
 * <p>The work is detached from the caller: a caller that goes away (HTTP client disconnect)
 * cancels the running statement on the server, and the pipeline still records the outcome and
 * releases the lock.
 */
@ApplicationScoped
public class RefreshService {

    private static final Logger LOG = Logger.getLogger(RefreshService.class);
    private static final String QUERY_CANCELED = "57014";

    private final Pool pool;
    private final RefreshRepository repository;
    private final int maxConcurrent;
    private final AtomicInteger running = new AtomicInteger();

    public RefreshService(Pool pool, RefreshRepository repository, MatviewsConfig config) {
        this.pool = pool;
        this.repository = repository;
        this.maxConcurrent = config.refresh().maxConcurrent();
    }

    public Uni<RefreshResult> refresh(UUID id) {
        return Uni.createFrom().<RefreshResult>emitter(emitter -> {
            if (running.incrementAndGet() > maxConcurrent) {
                running.decrementAndGet();
                emitter.fail(new RefreshCapacityException(maxConcurrent));
                return;
            }
            CallerGone callerGone = new CallerGone();
            emitter.onTermination(callerGone::cancelIfUnfinished);
            pool.withConnection(conn -> callerGone.attach(conn).flatMap(c -> onPinned(conn, id, callerGone)))
                    .onFailure(UnrecordedFailure.class).recoverWithUni(this::recordThroughPool)
                    .onTermination().invoke(running::decrementAndGet)
                    .subscribe().with(
                            result -> {
                                callerGone.finish();
                                emitter.complete(result);
                            },
                            failure -> {
                                callerGone.finish();
                                emitter.fail(failure);
                            });
        });
    }

    private Uni<RefreshResult> onPinned(SqlConnection conn, UUID id, CallerGone callerGone) {
        return repository.preflightAndLock(conn, id).flatMap(preflight -> {
            if (preflight instanceof Preflight.Unknown) {
                return Uni.createFrom().failure(new RegistrationNotFoundException(id));
            }
            if (preflight instanceof Preflight.Busy busy) {
                // Losing the lock leaves the stored outcome alone: the winner owns it.
                return Uni.createFrom().failure(new RefreshInProgressException(busy.registration().qualifiedName()));
            }
            if (preflight instanceof Preflight.Gone gone) {
                Registration r = gone.registration();
                return fail(conn, r, 0, "matview no longer exists", new MatviewGoneException(r.qualifiedName()));
            }
            Preflight.Locked locked = (Preflight.Locked) preflight;
            return underLock(conn, locked, callerGone)
                    .onTermination().call(() -> release(conn, locked));
        });
    }

    private Uni<RefreshResult> underLock(SqlConnection conn, Preflight.Locked locked, CallerGone callerGone) {
        Registration r = locked.registration();
        if (r.refreshMode() == RefreshMode.CONCURRENT) {
            // PostgreSQL's order: populated first, then the unique index.
            if (!locked.populated()) {
                String detail = "materialized view " + r.qualifiedName() + " is not populated (created WITH NO DATA"
                        + " or never refreshed); CONCURRENTLY needs one standard refresh first";
                return fail(conn, r, 0, detail, new NotPopulatedException(detail));
            }
            if (!locked.hasUsableUniqueIndex()) {
                String detail = "refreshing " + r.qualifiedName() + " concurrently needs a unique index on plain"
                        + " columns that is valid, immediate, non-partial and btree; "
                        + (locked.rejectedIndexes() == null ? "it has no unique index"
                        : "none qualifies: " + locked.rejectedIndexes());
                return fail(conn, r, 0, detail, new UniqueIndexRequiredException(detail));
            }
        }
        if (callerGone.isGone()) {
            String detail = "refresh of " + r.qualifiedName() + " cancelled before it started: the client went away";
            return fail(conn, r, 0, detail, new RefreshFailedException(detail, QUERY_CANCELED));
        }
        long started = System.nanoTime();
        return repository.refreshAndRecordSuccess(conn, r)
                .onItem().transform(updated -> {
                    Registration after = updated.orElseThrow(() -> new RegistrationNotFoundException(r.id()));
                    return new RefreshResult(after, after.lastRefreshDurationMs());
                })
                .onFailure(e -> !(e instanceof RegistrationNotFoundException)).recoverWithUni(e -> {
                    int elapsed = (int) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    return failedRefresh(conn, r, elapsed, e, callerGone.isGone());
                });
    }

    /** Classifies a failed REFRESH so that foreseeable PostgreSQL refusals get their own answer. */
    private Uni<RefreshResult> failedRefresh(SqlConnection conn, Registration r, int elapsedMs, Throwable e,
                                            boolean callerGone) {
        if (!(e instanceof PgException pg)) {
            String detail = "refresh of " + r.qualifiedName() + " failed: connection to PostgreSQL lost ("
                    + e.getMessage() + ")";
            return Uni.createFrom().failure(new UnrecordedFailure(r, elapsedMs, detail,
                    new RefreshFailedException(detail, null)));
        }
        String state = pg.getSqlState();
        String recorded = pg.getErrorMessage() + " (SQLSTATE " + state + ")";
        if (QUERY_CANCELED.equals(state) && callerGone) {
            recorded = "refresh cancelled: the client went away; " + recorded;
        }
        RuntimeException answer;
        boolean concurrent = r.refreshMode() == RefreshMode.CONCURRENT;
        if (concurrent && "55000".equals(state)) {
            answer = new UniqueIndexRequiredException(recorded);
        } else if (concurrent && "0A000".equals(state)) {
            answer = new NotPopulatedException(recorded);
        } else if ("42P01".equals(state)) {
            answer = new MatviewGoneException(r.qualifiedName());
        } else {
            answer = new RefreshFailedException("refresh of " + r.qualifiedName() + " failed: " + recorded, state);
        }
        return fail(conn, r, elapsedMs, recorded, answer);
    }

    /** Records the error on the pinned connection, then fails with {@code answer}. */
    private Uni<RefreshResult> fail(SqlConnection conn, Registration r, int durationMs, String error,
                                    RuntimeException answer) {
        return repository.recordFailure(conn, r.id(), durationMs, error)
                .onFailure().transform(e -> new UnrecordedFailure(r, durationMs, error, answer))
                .flatMap(ignored -> Uni.createFrom().failure(answer));
    }

    /** The pinned connection is gone by now; one pooled connection records what it could not. */
    private Uni<RefreshResult> recordThroughPool(Throwable t) {
        UnrecordedFailure u = (UnrecordedFailure) t;
        return repository.recordFailure(pool, u.registration.id(), u.durationMs, u.error)
                .onFailure().invoke(e -> LOG.errorf("could not record the failed refresh of %s: %s",
                        u.registration.qualifiedName(), e.getMessage()))
                .onItemOrFailure().transformToUni((ignored, e) -> Uni.createFrom().failure(u.answer));
    }

    /**
     * Unlocks without ever failing the pipeline: a refresh that succeeded stays a success. If the
     * unlock cannot run, the session is broken and its locks end with its backend.
     */
    private Uni<Void> release(SqlConnection conn, Preflight.Locked locked) {
        return repository.unlock(conn, locked.lockKey())
                .onItem().invoke(released -> {
                    if (!released) {
                        LOG.warnf("refresh lock of %s was not held at release", locked.registration().qualifiedName());
                    }
                })
                .onFailure().invoke(e -> LOG.warnf("could not release the refresh lock of %s: %s",
                        locked.registration().qualifiedName(), e.getMessage()))
                .onFailure().recoverWithNull()
                .replaceWithVoid();
    }

    /** A failure whose record could not be written on the pinned connection. */
    private static final class UnrecordedFailure extends RuntimeException {
        final Registration registration;
        final int durationMs;
        final String error;
        final RuntimeException answer;

        UnrecordedFailure(Registration registration, int durationMs, String error, RuntimeException answer) {
            super(error, null, false, false);
            this.registration = registration;
            this.durationMs = durationMs;
            this.error = error;
            this.answer = answer;
        }
    }

    /**
     * Turns the caller's cancellation into a server-side cancel of whatever the pinned connection
     * runs. The flag is checked before REFRESH starts, so a caller gone during the preflight
     * never starts one.
     */
    private static final class CallerGone {
        private volatile boolean gone;
        private volatile boolean finished;
        private volatile SqlConnection conn;

        Uni<SqlConnection> attach(SqlConnection conn) {
            this.conn = conn;
            return Uni.createFrom().item(conn);
        }

        boolean isGone() {
            return gone;
        }

        void finish() {
            finished = true;
        }

        void cancelIfUnfinished() {
            if (finished) {
                return;
            }
            gone = true;
            SqlConnection c = conn;
            if (c != null) {
                PgConnection.cast(c).cancelRequest().subscribe().with(
                        ok -> LOG.debug("sent a cancel request for an abandoned refresh"),
                        e -> LOG.warnf("could not cancel an abandoned refresh: %s", e.getMessage()));
            }
        }
    }
}
