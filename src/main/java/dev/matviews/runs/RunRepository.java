package dev.matviews.runs;

import dev.matviews.db.AdvisoryLocks;
import dev.matviews.db.OwnSchema;
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
 * SQL of the run history: reading it, marking runs for cancellation, ending runs whose session
 * died, and retention. Live runs are written by the refresh pipeline. Every start and end of a
 * run is announced on {@value #CHANNEL} by the database itself (a trigger of migration V5), in
 * the same transaction, so listeners on every replica see exactly what was committed.
 */
@ApplicationScoped
public class RunRepository {

    /** The channel the run trigger notifies; named in migration V5. */
    public static final String CHANNEL = "matviews_runs";

    private final OwnSchema schema;
    private final String table;
    private final String findById;
    private final String page;
    private final String deleteOlderThan;
    private final String deleteBeyondCount;
    private final String changedSince;
    private final String latestEventId;
    private final String window;

    public RunRepository(OwnSchema schema) {
        this.schema = schema;
        this.table = schema.runs();
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
        // runs that overlap [from, to): ended in it or after it (index on finished_at), or running
        this.window = "SELECT " + Run.COLUMNS + " FROM " + table
                + " WHERE (finished_at >= $1 OR status = 'running') AND started_at < $2"
                + " ORDER BY started_at, id LIMIT $3";
    }

    public Uni<Optional<Run>> findById(SqlClient client, UUID runId) {
        return client.preparedQuery(findById)
                .execute(Tuple.of(runId)).map(RunRepository::first);
    }

    /** One page of a view's history, newest first, after the keyset cursor if one is given. */
    public Uni<List<Run>> page(SqlClient client, UUID registrationId, RunStatus status, RunCursor after, int limit) {
        Tuple args = Tuple.tuple().addUUID(registrationId).addString(status == null ? null : status.dbName())
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
                  FROM requested q JOIN pg_catalog.pg_locks l ON %3$s AND l.pid = q.backend_pid
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
    public Uni<Optional<CancelResult>> requestCancel(SqlClient client, UUID runId) {
        return client.preparedQuery(CANCEL.formatted(Run.COLUMNS, table, AdvisoryLocks.isHeld("l", "q.lock_key")))
                .execute(Tuple.of(runId))
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
                       event_id = %3$s
                 WHERE run.status = 'running'
                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
                                    WHERE a.pid = run.backend_pid AND a.backend_start = run.backend_start)
                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE %2$s)
                RETURNING run.id
            )
            SELECT count(*) FROM run""";

    /**
     * Ends runs whose session is gone (its backend no longer exists) and whose view lock is free:
     * the instance that ran them died before it could record an outcome.
     */
    public Uni<Long> abandonOrphans(SqlClient client) {
        return client.query(ABANDON.formatted(table, AdvisoryLocks.isHeld("l", "run.lock_key"), schema.nextRunEvent()))
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

    /** Every run that overlaps {@code [from, to)}, by start, at most {@code limit}. */
    public Uni<List<Run>> window(SqlClient client, OffsetDateTime from, OffsetDateTime to, int limit) {
        return client.preparedQuery(window).execute(Tuple.of(from, to, limit)).map(RunRepository::all);
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
