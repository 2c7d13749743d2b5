package dev.matviews.overview;

import dev.matviews.db.OwnSchema;
import dev.matviews.runs.Run;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;

/** SQL of the overview: registrations by state, the failures and the hours of a window. */
@ApplicationScoped
public class OverviewRepository {

    /** Failed as the overview counts it; a cancelled run was stopped on purpose. */
    private static final String FAILED = "('error', 'timeout', 'abandoned')";

    private final String counts;
    private final String attention;
    private final String failures;
    private final String hours;

    public OverviewRepository(OwnSchema schema) {
        // One state per registration, the first that applies (a suspended view is usually behind too).
        String states = """
                WITH v AS (
                    SELECT r.*, CASE
                        WHEN r.suspended_at IS NOT NULL THEN 'suspended'
                        WHEN r.target_lag_seconds IS NOT NULL AND r.lag_seconds > r.target_lag_seconds THEN 'behind-target'
                        WHEN r.stale THEN 'behind-target'
                        WHEN r.last_refresh_status IN %s THEN 'failing'
                        WHEN r.last_refresh_at IS NULL THEN 'never-refreshed'
                        ELSE 'fresh' END AS state
                    FROM %s r)
                """.formatted(FAILED, schema.registrations());
        this.counts = states + "SELECT state, count(*)::int AS n FROM v GROUP BY state";
        this.attention = states + """
                SELECT id, schema_name, view_name, state, lag_seconds, target_lag_seconds, max_staleness_seconds,
                       last_refresh_status, last_refresh_at, suspended_at,
                       CASE WHEN state = 'suspended' THEN suspended_reason ELSE last_refresh_error END AS reason
                  FROM v WHERE state IN ('behind-target', 'failing', 'suspended')
                 ORDER BY CASE state WHEN 'behind-target' THEN 0 WHEN 'failing' THEN 1 ELSE 2 END,
                          -- the furthest behind its target, the latest failure, the latest suspension first
                          CASE WHEN state = 'behind-target'
                               THEN lag_seconds / nullif(coalesce(target_lag_seconds, max_staleness_seconds), 0) END
                               DESC NULLS LAST,
                          coalesce(suspended_at, last_refresh_at) DESC NULLS LAST, schema_name, view_name
                 LIMIT $1""";
        this.failures = "SELECT " + Run.COLUMNS + ", count(*) OVER () AS total FROM " + schema.runs()
                + " WHERE finished_at >= statement_timestamp() - make_interval(hours => $1) AND status IN " + FAILED
                + " ORDER BY finished_at DESC, id DESC LIMIT $2";
        // buckets by the hour a run ended: its outcome and duration are known then (index on finished_at)
        this.hours = """
                SELECT h.hour,
                       count(r.id) FILTER (WHERE r.status = 'success')::int AS success,
                       count(r.id) FILTER (WHERE r.status IN %s)::int AS failed,
                       count(r.id) FILTER (WHERE r.status = 'cancelled')::int AS cancelled,
                       count(r.id) FILTER (WHERE r.status = 'skipped')::int AS skipped,
                       coalesce(sum(r.duration_ms) FILTER (WHERE r.status <> 'skipped'), 0)::bigint AS refresh_ms
                  FROM generate_series(date_trunc('hour', statement_timestamp()) - make_interval(hours => $1 - 1),
                                       date_trunc('hour', statement_timestamp()), interval '1 hour') AS h(hour)
                  LEFT JOIN %s r ON r.finished_at >= h.hour AND r.finished_at < h.hour + interval '1 hour'
                 GROUP BY h.hour ORDER BY h.hour""".formatted(FAILED, schema.runs());
    }

    public Uni<Overview.Counts> counts(SqlClient client) {
        return client.query(counts).execute().map(rows -> {
            int fresh = 0, behind = 0, failing = 0, suspended = 0, never = 0;
            for (Row row : rows) {
                int n = row.getInteger("n");
                switch (row.getString("state")) {
                    case "fresh" -> fresh = n;
                    case "behind-target" -> behind = n;
                    case "failing" -> failing = n;
                    case "suspended" -> suspended = n;
                    default -> never = n;
                }
            }
            return new Overview.Counts(fresh + behind + failing + suspended + never, fresh, behind, failing, suspended,
                    never);
        });
    }

    public Uni<List<Overview.Attention>> attention(SqlClient client, int limit) {
        return client.preparedQuery(attention).execute(Tuple.of(limit)).map(rows -> {
            List<Overview.Attention> out = new ArrayList<>();
            for (Row row : rows) {
                out.add(new Overview.Attention(row.getUUID("id"), row.getString("schema_name"), row.getString("view_name"),
                        row.getString("state"), row.getDouble("lag_seconds"), row.getInteger("target_lag_seconds"),
                        row.getInteger("max_staleness_seconds"), row.getString("last_refresh_status"),
                        row.getOffsetDateTime("last_refresh_at"), row.getString("reason"),
                        row.getOffsetDateTime("suspended_at")));
            }
            return out;
        });
    }

    /** The failed runs of the window, newest first, and how many there were in all. */
    public record Failures(List<Run> runs, int total) {
    }

    public Uni<Failures> failures(SqlClient client, int hours, int limit) {
        return client.preparedQuery(failures).execute(Tuple.of(hours, limit)).map(rows -> {
            List<Run> runs = new ArrayList<>();
            int total = 0;
            for (Row row : rows) {
                runs.add(Run.map(row));
                total = row.getLong("total").intValue();
            }
            return new Failures(runs, total);
        });
    }

    public Uni<List<Overview.Hour>> hours(SqlClient client, int hours) {
        return client.preparedQuery(this.hours).execute(Tuple.of(hours)).map(rows -> {
            List<Overview.Hour> out = new ArrayList<>();
            for (Row row : rows) {
                out.add(new Overview.Hour(row.getOffsetDateTime("hour"), row.getInteger("success"),
                        row.getInteger("failed"), row.getInteger("cancelled"), row.getInteger("skipped"),
                        row.getLong("refresh_ms")));
            }
            return out;
        });
    }
}
