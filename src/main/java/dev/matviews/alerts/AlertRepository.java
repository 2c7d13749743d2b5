package dev.matviews.alerts;

import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** SQL of the alert outbox (migration V16); alerts are written by the database itself, in the state change's transaction. */
@ApplicationScoped
public class AlertRepository {

    private final String claim;
    private final String delivered;
    private final String retry;
    private final String expire;
    private final String trim;
    private final String changedSince;
    private final String latest;
    private final String pending;

    public AlertRepository(OwnSchema schema) {
        String table = schema.qualify("_matviews_alerts");
        // Claimed under a lease: no other replica sees the alert due until it passes, so each is sent
        // by one replica at a time; one that is never answered is sent again after the lease.
        this.claim = "WITH due AS (SELECT id FROM " + table + " WHERE state = 'pending' AND next_attempt_at <= clock_timestamp()"
                + " AND event = ANY($1::text[]) ORDER BY next_attempt_at, event_id LIMIT $2 FOR UPDATE SKIP LOCKED)"
                + " UPDATE " + table + " a SET attempts = a.attempts + 1,"
                + " next_attempt_at = clock_timestamp() + $3 * interval '1 millisecond'"
                + " FROM due WHERE a.id = due.id RETURNING a." + Alert.COLUMNS.replace(", ", ", a.") + ", a.attempts";
        this.delivered = "UPDATE " + table + " SET state = 'delivered', delivered_at = clock_timestamp(), last_error = NULL"
                + " WHERE id = $1 AND state = 'pending'";
        this.retry = "UPDATE " + table + " SET next_attempt_at = clock_timestamp() + $2 * interval '1 millisecond',"
                + " last_error = $3 WHERE id = $1 AND state = 'pending'";
        this.expire = "WITH gone AS (DELETE FROM " + table + " WHERE at < clock_timestamp() - $1 * interval '1 millisecond'"
                + " RETURNING state) SELECT count(*) FILTER (WHERE state = 'pending') AS pending, count(*) AS n FROM gone";
        this.trim = "WITH gone AS (DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table
                + " ORDER BY event_id DESC OFFSET $1) RETURNING state)"
                + " SELECT count(*) FILTER (WHERE state = 'pending') AS pending, count(*) AS n FROM gone";
        this.changedSince = "SELECT " + Alert.COLUMNS + " FROM " + table + " WHERE event_id > $1 ORDER BY event_id LIMIT $2";
        this.latest = "SELECT coalesce(max(event_id), 0) FROM " + table;
        this.pending = "SELECT count(*) AS n, (extract(epoch FROM min(next_attempt_at) - clock_timestamp()) * 1000)::bigint"
                + " AS next_in_ms FROM " + table + " WHERE state = 'pending' AND event = ANY($1::text[])";
    }

    /** An alert claimed for one delivery attempt, and how many attempts it has had with this one. */
    public record Claimed(Alert alert, int attempts) {
    }

    public Uni<List<Claimed>> claim(SqlClient client, String[] events, int limit, long leaseMs) {
        return client.preparedQuery(claim).execute(Tuple.of(events, limit, leaseMs)).map(rows -> {
            List<Claimed> claimed = new ArrayList<>(rows.size());
            rows.forEach(row -> claimed.add(new Claimed(Alert.map(row), row.getInteger("attempts"))));
            return claimed;
        });
    }

    public Uni<Boolean> delivered(SqlClient client, UUID id) {
        return client.preparedQuery(delivered).execute(Tuple.of(id)).map(rows -> rows.rowCount() == 1);
    }

    public Uni<Void> retryLater(SqlClient client, UUID id, long delayMs, String error) {
        return client.preparedQuery(retry).execute(Tuple.of(id, delayMs, error)).replaceWithVoid();
    }

    /** What retention removed: alerts still pending (never delivered) and all. */
    public record Removed(long pending, long all) {
    }

    public Uni<Removed> expire(SqlClient client, long retentionMs) {
        return client.preparedQuery(expire).execute(Tuple.of(retentionMs)).map(AlertRepository::removed);
    }

    public Uni<Removed> trim(SqlClient client, int maxRows) {
        return client.preparedQuery(trim).execute(Tuple.of(maxRows)).map(AlertRepository::removed);
    }

    private static Removed removed(RowSet<Row> rows) {
        Row row = rows.iterator().next();
        return new Removed(row.getLong("pending"), row.getLong("n"));
    }

    /** Pending alerts of these events, and how long until the first is due (null: none). */
    public record Pending(long count, Long nextInMs) {
    }

    public Uni<Pending> pending(SqlClient client, String[] events) {
        return client.preparedQuery(pending).execute(Tuple.of((Object) events)).map(rows -> {
            Row row = rows.iterator().next();
            return new Pending(row.getLong("n"), row.getLong("next_in_ms"));
        });
    }

    public Uni<List<Alert>> changedSince(SqlClient client, long eventId, int limit) {
        return client.preparedQuery(changedSince).execute(Tuple.of(eventId, limit)).map(rows -> {
            List<Alert> alerts = new ArrayList<>(rows.size());
            rows.forEach(row -> alerts.add(Alert.map(row)));
            return alerts;
        });
    }

    public Uni<Long> latestEventId(SqlClient client) {
        return client.query(latest).execute().map(rows -> rows.iterator().next().getLong(0));
    }
}
