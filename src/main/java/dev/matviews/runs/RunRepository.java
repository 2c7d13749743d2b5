package dev.matviews.runs;

import dev.matviews.db.OwnSchema;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationRepository;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL of the run history. Every statement that starts or finishes a run also notifies
 * {@value #CHANNEL} with the run as it now is, in the same transaction, so listeners on every
 * replica see exactly what was committed; and every finish keeps the registry's last_refresh_*
 * columns in step with it.
 */
@ApplicationScoped
public class RunRepository {

    public static final String CHANNEL = "matviews_runs";
    /** NOTIFY payloads are limited to 8000 bytes: the error travels shortened, the table keeps it whole. */
    private static final int NOTIFIED_ERROR_CHARS = 1000;

    /** A RETURNING item that announces the run row {@code alias} on the channel. */
    public static String notifyRun(String alias) {
        return "pg_notify('" + CHANNEL + "', jsonb_build_object('run', to_jsonb(" + alias + ")"
                + " || jsonb_build_object('error', left(" + alias + ".error, " + NOTIFIED_ERROR_CHARS + ")))::text)";
    }

    /** Registry columns written from a finished run {@code run}. */
    public static String registryFromRun(String status) {
        return """
                last_refresh_at = run.finished_at,
                last_refresh_duration_ms = run.duration_ms,
                last_refresh_status = '%s',
                last_refresh_error = run.error,
                last_success_at = CASE WHEN run.status = 'success' THEN run.finished_at ELSE reg.last_success_at END,
                current_run_id = CASE WHEN reg.current_run_id = run.id THEN NULL ELSE reg.current_run_id END,
                updated_at = run.finished_at""".formatted(status);
    }

    private final OwnSchema schema;
    private final String table;
    private final String finish;
    private final String insertFinished;
    private final String insertSkipped;
    private final String findById;
    private final String page;
    private final String registry;
    private final String deleteOlderThan;
    private final String deleteBeyondCount;
    private final String changedSince;
    private final String latestEventId;

    public RunRepository(OwnSchema schema, RegistrationRepository registrations) {
        this.schema = schema;
        this.table = schema.runs();
        this.registry = schema.registry();
        String registryColumns = registrations.columns("reg");
        this.finish = """
            WITH run AS (
                UPDATE %1$s AS run
                   SET status = $2, error = $3, sqlstate = $4, duration_ms = $5,
                       finished_at = clock_timestamp(),
                       event_id = %5$s
                 WHERE run.id = $1 AND run.status IN ('running', 'abandoned')
                RETURNING run.*, %2$s AS notified
            )
            UPDATE %6$s reg SET %3$s
              FROM run WHERE reg.id = run.registration_id
            RETURNING %4$s""".formatted(table, notifyRun("run"), registryFromRun("error"), registryColumns,
                schema.nextRunEvent(), registry);
        this.insertFinished = """
            WITH run AS (
                INSERT INTO %1$s AS run (registration_id, schema_name, view_name, refresh_mode, trigger, status,
                                         instance_id, backend_pid, started_at, finished_at, duration_ms, error, sqlstate)
                SELECT reg.id, reg.schema_name, reg.view_name, reg.refresh_mode, $2, $3, $4, pg_backend_pid(),
                       clock_timestamp(), clock_timestamp(), 0, $5, $6
                  FROM %4$s reg WHERE reg.id = $1
                RETURNING run.*, %2$s AS notified
            )
            UPDATE %4$s reg SET %3$s
              FROM run WHERE reg.id = run.registration_id
            RETURNING run.id""".formatted(table, notifyRun("run"), registryFromRun("error"), registry);
        this.insertSkipped = "INSERT INTO " + table + " AS run (registration_id, schema_name, view_name,"
                + " refresh_mode, trigger, status, instance_id, started_at, finished_at, duration_ms, error)"
                + " VALUES ($1, $2, $3, $4, $5, 'skipped', $6, clock_timestamp(), clock_timestamp(), 0, $7)"
                + " RETURNING " + Run.COLUMNS + ", " + notifyRun("run") + " AS notified";
        this.findById = "SELECT " + Run.COLUMNS + " FROM " + table + " WHERE id = $1";
        this.page = "SELECT " + Run.COLUMNS + " FROM " + table
                + " WHERE registration_id = $1 AND ($2::text IS NULL OR status = $2)"
                + " AND ($3::timestamptz IS NULL OR (started_at, id) < ($3, $4::uuid))"
                + " ORDER BY started_at DESC, id DESC LIMIT $5";
        this.deleteOlderThan = "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table
                + " WHERE status <> 'running' AND finished_at < clock_timestamp() - $1 * interval '1 millisecond'"
                + " LIMIT $2)";
        this.deleteBeyondCount = "DELETE FROM " + table + " WHERE id IN (SELECT id FROM (SELECT id, status,"
                + " row_number() OVER (PARTITION BY registration_id ORDER BY started_at DESC, id DESC) AS n"
                + " FROM " + table + ") ranked WHERE n > $1 AND status <> 'running' LIMIT $2)";
        this.changedSince = "SELECT " + Run.COLUMNS + " FROM " + table + " WHERE event_id > $1 ORDER BY event_id LIMIT $2";
        this.latestEventId = "SELECT coalesce(max(event_id), 0) FROM " + table;
    }

    /**
     * Ends a running (or meanwhile abandoned) run with a failure status and records it on the
     * registration; empty if the registration is gone.
     */
    public Uni<Optional<Registration>> finishFailed(SqlClient client, UUID runId, RunStatus status, String error,
                                                   String sqlState, int durationMs) {
        return client.preparedQuery(finish).execute(Tuple.of(runId, status.wireName(), error, sqlState, durationMs))
                .map(RegistrationRepository::first);
    }

    /**
     * Records a refresh that failed before it could start (view gone, prerequisites or privileges
     * missing); the run's id, or null if the registration is gone.
     */
    public Uni<UUID> insertFailed(SqlClient client, UUID registrationId, Trigger trigger, String instanceId,
                                  String error, String sqlState) {
        return client.preparedQuery(insertFinished)
                .execute(Tuple.of(registrationId, trigger.wireName(), RunStatus.ERROR.wireName(), instanceId, error,
                        sqlState))
                .map(rows -> {
                    RowIterator<Row> it = rows.iterator();
                    return it.hasNext() ? it.next().getUUID(0) : null;
                });
    }

    /**
     * Records a refresh that did not happen because another session holds the view's lock. The
     * registry is left alone: the holder owns the outcome.
     */
    public Uni<Run> insertSkipped(SqlClient client, Registration r, Trigger trigger, String instanceId, String reason) {
        return client.preparedQuery(insertSkipped)
                .execute(Tuple.tuple().addUUID(r.id()).addString(r.schemaName()).addString(r.viewName())
                        .addString(r.refreshMode().wireName()).addString(trigger.wireName()).addString(instanceId)
                        .addString(reason))
                .map(rows -> Run.map(rows.iterator().next()));
    }

    public Uni<Optional<Run>> findById(SqlClient client, UUID runId) {
        return client.preparedQuery(findById)
                .execute(Tuple.of(runId)).map(RunRepository::first);
    }

    /** One page of a view's history, newest first, after the keyset cursor if one is given. */
    public Uni<List<Run>> page(SqlClient client, UUID registrationId, RunStatus status, RunCursor after, int limit) {
                Tuple args = Tuple.tuple().addUUID(registrationId).addString(status == null ? null : status.wireName())
                .addOffsetDateTime(after == null ? null : after.startedAt()).addUUID(after == null ? null : after.id())
                .addInteger(limit);
        return client.preparedQuery(page).execute(args).map(RunRepository::all);
    }

    /** What a cancel request found: the run (marked if it was running), and whether its backend was signalled. */
    public record CancelResult(Run run, boolean signalled) {
    }

    private static final String CANCEL = """
            WITH requested AS (
                UPDATE %2$s SET cancel_requested_at = coalesce(cancel_requested_at, clock_timestamp())
                 WHERE id = $1 AND status = 'running'
                RETURNING %1$s, lock_key
            ), signalled AS (
                SELECT bool_or(pg_cancel_backend(l.pid)) AS signalled
                  FROM requested q JOIN pg_catalog.pg_locks l
                    ON l.locktype = 'advisory' AND l.classid = %3$d AND l.objsubid = 2
                   AND l.objid = (q.lock_key::int8 & 4294967295)::oid AND l.pid = q.backend_pid AND l.granted
            ), found AS (
                SELECT %1$s FROM requested
                UNION ALL
                SELECT %1$s FROM %2$s WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM requested)
            )
            SELECT found.*, (SELECT signalled FROM signalled) AS signalled FROM found""";

    /**
     * Marks a running run for cancellation and signals its backend, whichever instance runs it. The
     * backend is signalled only while it still holds this view's lock, so a reused pid is never hit.
     */
    public Uni<Optional<CancelResult>> requestCancel(SqlClient client, UUID runId, int lockNamespace) {
        return client.preparedQuery(CANCEL.formatted(Run.COLUMNS, table, lockNamespace)).execute(Tuple.of(runId))
                .map(rows -> {
                    RowIterator<Row> it = rows.iterator();
                    if (!it.hasNext()) {
                        return Optional.empty();
                    }
                    Row row = it.next();
                    return Optional.of(new CancelResult(Run.map(row), Boolean.TRUE.equals(row.getBoolean("signalled"))));
                });
    }

    private static final String ABANDON = """
            WITH run AS (
                UPDATE %1$s AS run
                   SET status = 'abandoned',
                       finished_at = clock_timestamp(),
                       duration_ms = least(extract(epoch FROM clock_timestamp() - run.started_at) * 1000, 2147483647)::int,
                       error = 'abandoned: the refreshing session ended without recording an outcome',
                       event_id = %5$s
                 WHERE run.status = 'running'
                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
                                    WHERE a.pid = run.backend_pid AND a.backend_start = run.backend_start)
                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                                    WHERE l.locktype = 'advisory' AND l.classid = %2$d AND l.objsubid = 2
                                      AND l.objid = (run.lock_key::int8 & 4294967295)::oid)
                RETURNING run.*, %3$s AS notified
            ), reg AS (
                UPDATE %6$s reg SET %4$s
                  FROM run WHERE reg.current_run_id = run.id
            )
            SELECT count(*) FROM run""";

    /**
     * Ends runs whose session is gone (its backend no longer exists) and whose view lock is free:
     * the instance that ran them died before it could record an outcome.
     */
    public Uni<Long> abandonOrphans(SqlClient client, int lockNamespace) {
        return client.query(ABANDON.formatted(table, lockNamespace, notifyRun("run"), registryFromRun("error"),
                        schema.nextRunEvent(), registry))
                .execute().map(rows -> rows.iterator().next().getLong(0));
    }

    /** Deletes at most {@code batch} finished runs older than {@code maxAge}; returns how many. */
    public Uni<Integer> deleteOlderThan(SqlClient client, Duration maxAge, int batch) {
        return client.preparedQuery(deleteOlderThan)
                .execute(Tuple.of(maxAge.toMillis(), batch)).map(RowSet::rowCount);
    }

    /** Deletes at most {@code batch} finished runs beyond the newest {@code keep} of their view. */
    public Uni<Integer> deleteBeyondCount(SqlClient client, int keep, int batch) {
        return client.preparedQuery(deleteBeyondCount)
                .execute(Tuple.of(keep, batch)).map(RowSet::rowCount);
    }

    /** Runs whose latest event came after {@code eventId}, in event order. */
    public Uni<List<Run>> changedSince(SqlClient client, long eventId, int limit) {
        return client.preparedQuery(changedSince)
                .execute(Tuple.of(eventId, limit)).map(RunRepository::all);
    }

    public Uni<Long> latestEventId(SqlClient client) {
        return client.query(latestEventId).execute()
                .map(rows -> rows.iterator().next().getLong(0));
    }

    private static Optional<Run> first(RowSet<Row> rows) {
        RowIterator<Row> it = rows.iterator();
        return it.hasNext() ? Optional.of(Run.map(it.next())) : Optional.empty();
    }

    private static List<Run> all(RowSet<Row> rows) {
        List<Run> result = new ArrayList<>(rows.size());
        rows.forEach(row -> result.add(Run.map(row)));
        return result;
    }

    /** Position in a newest-first listing. */
    public record RunCursor(OffsetDateTime startedAt, UUID id) {
    }
}
