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
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL of schedules. Every change notifies {@value #CHANNEL} so that the schedulers of all
 * replicas wake up and re-plan instead of polling.
 */
@ApplicationScoped
public class ScheduleRepository implements Warmup {

    public static final String CHANNEL = dev.matviews.db.Channels.SCHEDULER;
    public static final String MATVIEW_JOB = "materialized_view_refresh";
    private static final String WAKE = "pg_notify('" + CHANNEL + "', 'schedules')";

    private final String table;
    private final String targetsView;

    public ScheduleRepository(OwnSchema schema) {
        this.table = schema.schedules();
        this.targetsView = schema.targetsView("job_type", "payload", "$1", "$2");
    }

    /** A new or changed schedule's fields, already validated. */
    public record Fields(String name, String jobType, JsonObject payload, String cronExpr, String timezone,
                         boolean enabled, int maxAttempts, int maxRuntimeMs, MissedRunPolicy missedRunPolicy,
                         Instant nextRunAt) {
    }

    /** The firing pass's statements prepared: no job type matches, so no schedule is locked. */
    @Override
    public Uni<Void> warm(SqlConnection conn) {
        return databaseNow(conn).call(() -> lockDue(conn, 0, new String[0])).replaceWithVoid();
    }

    public Uni<Instant> databaseNow(SqlClient client) {
        return client.query("SELECT clock_timestamp()").execute()
                .map(rows -> rows.iterator().next().getOffsetDateTime(0).toInstant());
    }

    /** Empty if the name is taken. */
    public Uni<Optional<Schedule>> insert(SqlClient client, Fields f) {
        return client.preparedQuery("INSERT INTO " + table + " (name, job_type, payload, cron_expr, timezone, enabled,"
                        + " max_attempts, max_runtime_ms, missed_run_policy, next_run_at)"
                        + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO NOTHING"
                        + " RETURNING " + Schedule.COLUMNS + ", " + WAKE)
                .execute(args(f)).map(ScheduleRepository::first);
    }

    /** Replaces every field; empty if no such schedule. A name taken by another schedule is a unique violation. */
    public Uni<Optional<Schedule>> replace(SqlClient client, UUID id, Fields f) {
        return client.preparedQuery("UPDATE " + table + " SET name = $1, job_type = $2, payload = $3, cron_expr = $4,"
                        + " timezone = $5, enabled = $6, max_attempts = $7, max_runtime_ms = $8, missed_run_policy = $9,"
                        + " next_run_at = $10, last_error = NULL, updated_at = NOW() WHERE id = $11 RETURNING " + Schedule.COLUMNS + ", " + WAKE)
                .execute(args(f).addUUID(id)).map(ScheduleRepository::first);
    }

    private static Tuple args(Fields f) {
        return Tuple.tuple().addString(f.name()).addString(f.jobType()).addJsonObject(f.payload())
                .addString(f.cronExpr()).addString(f.timezone()).addBoolean(f.enabled()).addInteger(f.maxAttempts())
                .addInteger(f.maxRuntimeMs()).addString(f.missedRunPolicy().dbName())
                .addOffsetDateTime(f.nextRunAt() == null ? null : OffsetDateTime.ofInstant(f.nextRunAt(), ZoneOffset.UTC));
    }

    public Uni<List<Schedule>> list(SqlClient client) {
        return client.preparedQuery("SELECT " + Schedule.COLUMNS + " FROM " + table + " ORDER BY name").execute()
                .map(ScheduleRepository::all);
    }

    public Uni<Optional<Schedule>> findById(SqlClient client, UUID id) {
        return client.preparedQuery("SELECT " + Schedule.COLUMNS + " FROM " + table + " WHERE id = $1")
                .execute(Tuple.of(id)).map(ScheduleRepository::first);
    }

    public Uni<Optional<Schedule>> findByName(SqlClient client, String name) {
        return client.preparedQuery("SELECT " + Schedule.COLUMNS + " FROM " + table + " WHERE name = $1")
                .execute(Tuple.of(name)).map(ScheduleRepository::first);
    }

    public Uni<Boolean> delete(SqlClient client, UUID id) {
        return client.preparedQuery("WITH gone AS (DELETE FROM " + table + " WHERE id = $1 RETURNING id)"
                        + " SELECT count(*) AS n, " + WAKE + " FROM gone")
                .execute(Tuple.of(id)).map(rows -> rows.iterator().next().getLong("n") == 1);
    }

    /** Names of the refresh schedules of a view, deleted with it. */
    public Uni<List<String>> deleteForView(SqlClient client, String schema, String view) {
        return client.preparedQuery("DELETE FROM " + table + " WHERE " + targetsView + " RETURNING name, " + WAKE)
                .execute(Tuple.of(schema, view)).map(rows -> {
                    List<String> names = new ArrayList<>();
                    rows.forEach(row -> names.add(row.getString("name")));
                    return names;
                });
    }

    /**
     * The due schedules of the given job types no other replica is firing right now, locked until
     * the transaction ends. Schedules of other types (AllYourBase's own) are left to their owner.
     */
    public Uni<List<Schedule>> lockDue(SqlClient tx, int limit, String[] types) {
        return tx.preparedQuery("SELECT " + Schedule.COLUMNS + " FROM " + table
                        + " WHERE enabled AND next_run_at <= clock_timestamp() AND job_type = ANY($2::text[])"
                        + " ORDER BY next_run_at LIMIT $1 FOR UPDATE SKIP LOCKED")
                .execute(Tuple.of(limit, types)).map(ScheduleRepository::all);
    }

    /** Disables schedules that cannot be evaluated, saying why (id, error). */
    public Uni<Void> disableInvalid(SqlClient tx, List<Tuple> idError) {
        if (idError.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return tx.preparedQuery("UPDATE " + table + " SET enabled = false, next_run_at = NULL, last_error = $2,"
                        + " updated_at = NOW() WHERE id = $1")
                .executeBatch(idError).replaceWithVoid();
    }

    public Uni<Void> advance(SqlClient tx, List<Tuple> idNextLast) {
        if (idNextLast.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return tx.preparedQuery("UPDATE " + table + " SET next_run_at = $2, last_run_at = coalesce($3, last_run_at)"
                        + " WHERE id = $1")
                .executeBatch(idNextLast).replaceWithVoid();
    }

    public static Optional<Schedule> first(RowSet<Row> rows) {
        RowIterator<Row> it = rows.iterator();
        return it.hasNext() ? Optional.of(Schedule.map(it.next())) : Optional.empty();
    }

    private static List<Schedule> all(RowSet<Row> rows) {
        List<Schedule> result = new ArrayList<>(rows.size());
        rows.forEach(row -> result.add(Schedule.map(row)));
        return result;
    }
}
