package dev.matviews.schedule;

import dev.matviews.db.OwnSchema;
import dev.matviews.db.Warmup;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.SqlResult;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL of the job queue. A running job belongs to the worker named in worker_id for as long as its
 * lease lasts; every write a worker makes checks that it still owns the job.
 */
@ApplicationScoped
public class JobRepository implements Warmup {

    private static final String WAKE = "pg_notify('" + ScheduleRepository.CHANNEL + "', 'jobs')";

    private final String table;
    private final String schedules;
    private final String targetsView;

    public JobRepository(OwnSchema schema) {
        this.table = schema.jobs();
        this.schedules = schema.schedules();
        this.targetsView = schema.targetsView("type", "payload", "$1", "$2");
    }

    /**
     * A worker's statements prepared: each matches no row (no job type, the nil id), so nothing
     * is claimed, changed or announced.
     */
    @Override
    public Uni<Void> warm(SqlConnection conn) {
        String[] none = new String[0];
        UUID nil = new UUID(0, 0);
        return claim(conn, "warm-up", 0, 0, none)
                .call(() -> attachRun(conn, nil, "warm-up", nil))
                .call(() -> finish(conn, nil, "warm-up", JobState.COMPLETED, null, null, 0))
                .call(() -> renew(conn, nil, "warm-up", 0))
                .call(() -> millisUntilNextDue(conn, none))
                .replaceWithVoid();
    }

    /** Enqueues a job fired by a schedule for one due time; the idempotency key makes a repeat a no-op. */
    public Uni<Void> enqueueFired(SqlClient tx, List<Tuple> rows) {
        if (rows.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return tx.preparedQuery("INSERT INTO " + table + " (type, payload, run_at, max_attempts, max_runtime_ms,"
                        + " schedule_id, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                        // The predicate lets AllYourBase's partial unique index serve as well as V3's constraint.
                        + " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING")
                .executeBatch(rows).replaceWithVoid();
    }

    public static Tuple fired(Schedule s, Instant due) {
        return Tuple.tuple().addString(s.jobType()).addJsonObject(new JsonObject(s.payload()))
                .addOffsetDateTime(OffsetDateTime.ofInstant(due, ZoneOffset.UTC)).addInteger(s.maxAttempts())
                .addInteger(s.maxRuntimeMs()).addUUID(s.id()).addString("schedule:" + s.id() + ":" + due);
    }

    /**
     * Cancels the queued refresh jobs of a view and marks its running ones canceled, so none of
     * them registers it again later: a running one ends canceled instead of being retried, and
     * cannot register the view (see {@link #holdLive}). Its refresh, if one runs, goes on.
     */
    public Uni<Integer> cancelForView(SqlClient client, String schema, String view, String reason) {
        return client.preparedQuery("UPDATE " + table + " SET cancel_requested_at = coalesce(cancel_requested_at,"
                        + " clock_timestamp()), state = CASE WHEN state = 'queued' THEN 'canceled' ELSE state END,"
                        + " last_error = $3, completed_at = CASE WHEN state = 'queued' THEN clock_timestamp() END,"
                        + " updated_at = clock_timestamp()"
                        + " WHERE state IN ('queued', 'running') AND " + targetsView)
                .execute(Tuple.of(schema, view, reason)).map(RowSet::rowCount);
    }

    /**
     * Inside a transaction: whether this worker still runs the job and nobody asked to cancel it,
     * holding the row (FOR SHARE) until the transaction ends, so an unregistering transaction that
     * marks the job waits for it, or is seen by it.
     */
    public Uni<Boolean> holdLive(SqlClient tx, UUID id, String workerId) {
        return tx.preparedQuery("SELECT 1 FROM " + table + " WHERE id = $1 AND worker_id = $2 AND state = 'running'"
                        + " AND cancel_requested_at IS NULL FOR SHARE")
                .execute(Tuple.of(id, workerId)).map(rows -> rows.size() == 1);
    }

    /**
     * Takes up to {@code limit} due jobs of the given types for this worker under a lease; other
     * workers skip them. Jobs of other types (AllYourBase's own, on the same table) are never taken.
     */
    public Uni<List<Job>> claim(SqlClient client, String workerId, int limit, long leaseMs, String[] types) {
        return client.preparedQuery("UPDATE " + table + " SET state = 'running', attempts = attempts + 1,"
                        + " worker_id = $1, lease_until = clock_timestamp() + $3 * interval '1 millisecond',"
                        + " updated_at = clock_timestamp()"
                        + " WHERE id IN (SELECT id FROM " + table + " WHERE state = 'queued' AND run_at <= clock_timestamp()"
                        + " AND type = ANY($4::text[]) ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
                        + " RETURNING " + Job.COLUMNS)
                .execute(Tuple.of(workerId, limit, leaseMs, types)).map(JobRepository::all);
    }

    /** Remembers the refresh run of the current attempt, so a cancel from any replica can reach it. */
    public Uni<Void> attachRun(SqlClient client, UUID id, String workerId, UUID runId) {
        return client.preparedQuery("UPDATE " + table + " SET last_run_id = $3 WHERE id = $1 AND worker_id = $2")
                .execute(Tuple.of(id, workerId, runId)).replaceWithVoid();
    }

    /** What a lease renewal found: whether this worker still holds the job, and whether a cancel was asked. */
    public record Lease(boolean held, boolean cancelRequested) {
    }

    /** Extends the lease; not held if this worker lost the job (lease expired and requeued, or finished). */
    public Uni<Lease> renew(SqlClient client, UUID id, String workerId, long leaseMs) {
        return client.preparedQuery("UPDATE " + table + " SET lease_until = clock_timestamp() + $3 * interval '1 millisecond'"
                        + " WHERE id = $1 AND worker_id = $2 AND state = 'running' RETURNING cancel_requested_at IS NOT NULL")
                .execute(Tuple.of(id, workerId, leaseMs))
                .map(rows -> rows.size() == 1 ? new Lease(true, rows.iterator().next().getBoolean(0)) : new Lease(false, false));
    }

    /** Ends the job: completed, failed, or queued again after {@code retryInMs}. */
    public Uni<Boolean> finish(SqlClient client, UUID id, String workerId, JobState state, String error, UUID runId,
                               long retryInMs) {
        return client.preparedQuery("UPDATE " + table + " SET state = CASE WHEN cancel_requested_at IS NOT NULL"
                        + " AND $3 = 'queued' THEN 'canceled' ELSE $3 END,"
                        + " last_error = $4, last_run_id = coalesce($5, last_run_id), worker_id = NULL, lease_until = NULL,"
                        + " run_at = CASE WHEN $3 = 'queued' THEN clock_timestamp() + $6 * interval '1 millisecond' ELSE run_at END,"
                        + " completed_at = CASE WHEN $3 = 'queued' THEN NULL ELSE clock_timestamp() END,"
                        + " updated_at = clock_timestamp()"
                        // Only a job queued again is news to the other replicas' schedulers (a new due
                        // time); a finished one is not, and a burst of them woke every replica per job.
                        + " WHERE id = $1 AND worker_id = $2 AND state = 'running'"
                        + " RETURNING id, CASE WHEN $3 = 'queued' THEN " + WAKE + " END")
                .execute(Tuple.tuple().addUUID(id).addString(workerId).addString(state.dbName()).addString(error).addUUID(runId)
                        .addLong(retryInMs))
                .map(rows -> rows.rowCount() == 1);
    }

    /** Gives a job back untouched (shutdown): queued again now, the attempt not counted. */
    public Uni<Boolean> release(SqlClient client, UUID id, String workerId, UUID runId, String note) {
        return client.preparedQuery("UPDATE " + table + " SET state = CASE WHEN cancel_requested_at IS NOT NULL"
                        + " THEN 'canceled' ELSE 'queued' END, attempts = greatest(attempts - 1, 0),"
                        + " worker_id = NULL, lease_until = NULL, run_at = clock_timestamp(), last_error = $4,"
                        + " last_run_id = coalesce($3, last_run_id), updated_at = clock_timestamp()"
                        + " WHERE id = $1 AND worker_id = $2 AND state = 'running' RETURNING id, " + WAKE)
                .execute(Tuple.of(id, workerId, runId, note)).map(rows -> rows.rowCount() == 1);
    }

    /** Jobs of the given types whose worker stopped renewing: queued again, or failed once out of attempts. */
    public Uni<Integer> requeueExpired(SqlClient client, String[] types) {
        return client.preparedQuery("UPDATE " + table + " SET"
                        + " state = CASE WHEN cancel_requested_at IS NOT NULL THEN 'canceled'"
                        + " WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,"
                        + " last_error = 'lease of worker ' || coalesce(worker_id, '?') || ' expired',"
                        + " completed_at = CASE WHEN cancel_requested_at IS NOT NULL OR attempts >= max_attempts"
                        + " THEN clock_timestamp() END,"
                        + " worker_id = NULL, lease_until = NULL, run_at = clock_timestamp(), updated_at = clock_timestamp()"
                        + " WHERE state = 'running' AND lease_until < clock_timestamp() AND type = ANY($1::text[])")
                .execute(Tuple.tuple().addArrayOfString(types)).map(RowSet::rowCount);
    }

    /**
     * Milliseconds until something of the given job types is due (a schedule, a queued job, a lease
     * to expire); null if nothing is. Other types' rows are not ours to wake for.
     */
    public Uni<Long> millisUntilNextDue(SqlClient client, String[] types) {
        return client.preparedQuery("SELECT (extract(epoch FROM least("
                        + "(SELECT min(next_run_at) FROM " + schedules + " WHERE enabled AND job_type = ANY($1::text[])),"
                        + "(SELECT min(run_at) FROM " + table + " WHERE state = 'queued' AND type = ANY($1::text[])),"
                        + "(SELECT min(lease_until) FROM " + table + " WHERE state = 'running' AND type = ANY($1::text[])))"
                        + " - clock_timestamp()) * 1000)::bigint")
                .execute(Tuple.tuple().addArrayOfString(types)).map(rows -> rows.iterator().next().getLong(0));
    }

    public Uni<List<Job>> list(SqlClient client, String type, JobState state, UUID scheduleId, int limit) {
        return client.preparedQuery("SELECT " + Job.COLUMNS + " FROM " + table + " WHERE ($1::text IS NULL OR type = $1)"
                        + " AND ($2::text IS NULL OR state = $2) AND ($3::uuid IS NULL OR schedule_id = $3)"
                        + " ORDER BY created_at DESC, id DESC LIMIT $4")
                .execute(Tuple.of(type, state == null ? null : state.dbName(), scheduleId, limit)).map(JobRepository::all);
    }

    /**
     * Deletes at most {@code batch} finished jobs of the given types completed longer than
     * {@code maxAge} ago; returns how many.
     */
    public Uni<Integer> deleteFinishedOlderThan(SqlClient client, Duration maxAge, int batch, String[] types) {
        return client.preparedQuery("DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table
                        + " WHERE state IN ('completed', 'failed', 'canceled') AND type = ANY($3::text[])"
                        + " AND completed_at < clock_timestamp() - $1 * interval '1 millisecond' LIMIT $2)")
                .execute(Tuple.of(maxAge.toMillis(), batch, types)).map(SqlResult::rowCount);
    }

    /** Deletes at most {@code batch} finished jobs of the given types beyond the newest {@code keep} of their schedule. */
    public Uni<Integer> deleteFinishedBeyondCount(SqlClient client, int keep, int batch, String[] types) {
        return client.preparedQuery("DELETE FROM " + table + " WHERE id IN (SELECT id FROM (SELECT id, state,"
                        + " row_number() OVER (PARTITION BY schedule_id ORDER BY created_at DESC, id DESC) AS n"
                        + " FROM " + table + " WHERE schedule_id IS NOT NULL AND type = ANY($3::text[])) ranked"
                        + " WHERE n > $1 AND state IN ('completed', 'failed', 'canceled') LIMIT $2)")
                .execute(Tuple.of(keep, batch, types)).map(SqlResult::rowCount);
    }

    public Uni<Optional<Job>> findById(SqlClient client, UUID id) {
        return client.preparedQuery("SELECT " + Job.COLUMNS + " FROM " + table + " WHERE id = $1")
                .execute(Tuple.of(id)).map(JobRepository::first);
    }

    /** A failed or canceled job of the given types queued again with fresh attempts; empty if there is none such. */
    public Uni<Optional<Job>> retry(SqlClient client, UUID id, String[] types) {
        return client.preparedQuery("UPDATE " + table + " SET state = 'queued', attempts = 0, run_at = clock_timestamp(),"
                        + " cancel_requested_at = NULL, completed_at = NULL, updated_at = clock_timestamp()"
                        + " WHERE id = $1 AND state IN ('failed', 'canceled') AND type = ANY($2::text[])"
                        + " RETURNING " + Job.COLUMNS + ", " + WAKE)
                .execute(Tuple.tuple().addUUID(id).addArrayOfString(types)).map(JobRepository::first);
    }

    /** A queued job of the given types is canceled at once; a running one is marked, and its worker ends it. */
    public Uni<Optional<Job>> cancel(SqlClient client, UUID id, String[] types) {
        return client.preparedQuery("UPDATE " + table + " SET cancel_requested_at = clock_timestamp(),"
                        + " state = CASE WHEN state = 'queued' THEN 'canceled' ELSE state END,"
                        + " completed_at = CASE WHEN state = 'queued' THEN clock_timestamp() ELSE completed_at END,"
                        + " updated_at = clock_timestamp()"
                        + " WHERE id = $1 AND state IN ('queued', 'running') AND type = ANY($2::text[])"
                        + " RETURNING " + Job.COLUMNS)
                .execute(Tuple.tuple().addUUID(id).addArrayOfString(types)).map(JobRepository::first);
    }

    private static Optional<Job> first(RowSet<Row> rows) {
        RowIterator<Row> it = rows.iterator();
        return it.hasNext() ? Optional.of(Job.map(it.next())) : Optional.empty();
    }

    private static List<Job> all(RowSet<Row> rows) {
        List<Job> result = new ArrayList<>(rows.size());
        rows.forEach(row -> result.add(Job.map(row)));
        return result;
    }
}
