package dev.matviews.cascade;

import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** SQL of cascades: their row (plan and outcome) and their nodes' runs. */
@ApplicationScoped
public class CascadeRepository {

    private final String insert;
    private final String finish;
    private final String find;
    private final String requestCancel;
    private final String requestCancelOfJob;
    private final String cancelRequested;
    private final String renew;
    private final String abandonExpired;
    private final String changedSince;
    private final String latestEventId;
    private final String deleteOlderThan;
    private final String leftOut;

    public CascadeRepository(OwnSchema schema) {
        String cascades = schema.cascades();
        this.leftOut = "SELECT id FROM " + schema.registry() + " WHERE id = ANY($1)"
                + " AND (data_timestamp >= $2 OR ($3 AND suspended_at IS NOT NULL))";
        String nextEvent = schema.nextRunEvent();
        this.insert = "INSERT INTO " + cascades + " (direction, root_registration_id, schema_name, trigger, instance_id,"
                + " parallelism, on_busy, nodes, job_id, lease_until)"
                + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp() + $10 * interval '1 ms') RETURNING id";
        this.finish = "UPDATE " + cascades + " SET status = $2, finished_at = clock_timestamp(), event_id = "
                + nextEvent + " WHERE id = $1 AND status = 'running'";
        // The latest run of each node in this cascade (a busy node that waited may have several).
        this.find = """
                SELECT c.*,
                       (SELECT coalesce(jsonb_agg(jsonb_build_object('registrationId', r.registration_id, 'runId', r.id,
                                    'status', r.status, 'startedAt', r.started_at, 'finishedAt', r.finished_at,
                                    'error', r.error)), '[]')
                          FROM (SELECT DISTINCT ON (run.registration_id) run.*
                                  FROM %2$s run
                                 WHERE run.cascade_id = c.id
                                 ORDER BY run.registration_id, run.started_at DESC, run.id DESC) r) AS runs
                  FROM %1$s c
                 WHERE c.id = $1""".formatted(cascades, schema.runs());
        this.requestCancel = "UPDATE " + cascades + " SET cancel_requested_at = coalesce(cancel_requested_at,"
                + " clock_timestamp()) WHERE id = $1 RETURNING status, instance_id";
        this.requestCancelOfJob = "UPDATE " + cascades + " SET cancel_requested_at = coalesce(cancel_requested_at,"
                + " clock_timestamp()) WHERE job_id = $1 AND status = 'running' RETURNING id";
        this.cancelRequested = "SELECT cancel_requested_at IS NOT NULL FROM " + cascades + " WHERE id = $1";
        // Only running cascades keep a lease: one that is missing from the answer has been
        // abandoned meanwhile (this instance stalled past its lease) and must start nothing more.
        this.renew = "UPDATE " + cascades + " SET lease_until = clock_timestamp() + $2 * interval '1 ms'"
                + " WHERE id = ANY($1) AND status = 'running' RETURNING id, cancel_requested_at IS NOT NULL AS cancel";
        // A cascade of a release without leases (V9) counts as lost a day after it started.
        this.abandonExpired = "UPDATE " + cascades + " SET status = 'abandoned', finished_at = clock_timestamp(),"
                + " event_id = " + nextEvent + " WHERE status = 'running'"
                + " AND coalesce(lease_until, started_at + interval '1 day') < clock_timestamp() RETURNING id";
        this.changedSince = "SELECT " + CascadeEvent.COLUMNS + " FROM " + cascades
                + " WHERE event_id > $1 ORDER BY event_id LIMIT $2";
        this.latestEventId = "SELECT coalesce(max(event_id), 0) FROM " + cascades;
        this.deleteOlderThan = "DELETE FROM " + cascades + " WHERE id IN (SELECT id FROM " + cascades
                + " WHERE status <> 'running' AND finished_at < clock_timestamp() - $1 * interval '1 ms' LIMIT $2)";
    }

    /** A new cascade, leased to its coordinator for {@code lease}. */
    record NewCascade(CascadePlan.Direction direction, UUID root, String schemaName, String trigger, String instanceId,
                      int parallelism, OnBusy onBusy, CascadePlan plan, UUID jobId, Duration lease) {
    }

    Uni<UUID> insert(SqlClient client, NewCascade c) {
        JsonArray nodes = new JsonArray();
        for (CascadePlan.Node n : c.plan().nodes()) {
            JsonArray after = new JsonArray();
            n.after().forEach(a -> after.add(a.toString()));
            nodes.add(new JsonObject().put("registrationId", n.registrationId().toString())
                    .put("schemaName", n.schemaName()).put("viewName", n.viewName()).put("after", after));
        }
        return client.preparedQuery(insert)
                .execute(Tuple.tuple().addString(c.direction().dbName()).addUUID(c.root())
                        .addString(c.schemaName()).addString(c.trigger()).addString(c.instanceId())
                        .addInteger(c.parallelism()).addString(c.onBusy().dbName()).addValue(nodes).addUUID(c.jobId())
                        .addLong(c.lease().toMillis()))
                .map(rows -> rows.iterator().next().getUUID(0));
    }

    Uni<Void> finish(SqlClient client, UUID id, CascadeStatus status) {
        return client.preparedQuery(finish).execute(Tuple.of(id, status.dbName())).replaceWithVoid();
    }

    Uni<Boolean> cancelRequested(SqlClient client, UUID id) {
        return client.preparedQuery(cancelRequested).execute(Tuple.of(id)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            return it.hasNext() && it.next().getBoolean(0);
        });
    }

    /** Marks the cascade for cancellation; its status and coordinating instance, if it exists. */
    Uni<Optional<String[]>> requestCancel(SqlClient client, UUID id) {
        return client.preparedQuery(requestCancel).execute(Tuple.of(id)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            if (!it.hasNext()) {
                return Optional.empty();
            }
            Row row = it.next();
            return Optional.of(new String[]{row.getString("status"), row.getString("instance_id")});
        });
    }

    /** Marks the running cascades that {@code jobId} started for cancellation; their ids. */
    Uni<List<UUID>> requestCancelOfJob(SqlClient client, UUID jobId) {
        return client.preparedQuery(requestCancelOfJob).execute(Tuple.of(jobId)).map(CascadeRepository::ids);
    }

    /** Extends the leases of {@code ids}; for each one still running, whether a cancel was requested. */
    Uni<Map<UUID, Boolean>> renew(SqlClient client, List<UUID> ids, Duration lease) {
        return client.preparedQuery(renew).execute(Tuple.of(ids.toArray(new UUID[0]), lease.toMillis())).map(rows -> {
            Map<UUID, Boolean> running = new HashMap<>();
            rows.forEach(row -> running.put(row.getUUID("id"), row.getBoolean("cancel")));
            return running;
        });
    }

    /** Marks abandoned the running cascades whose coordinator let its lease run out; their ids. */
    Uni<List<UUID>> abandonExpired(SqlClient client) {
        return client.query(abandonExpired).execute().map(CascadeRepository::ids);
    }

    /**
     * Which of {@code ids} a cascade leaves out: those with data as of {@code freshAsOf} or later
     * (their data timestamp; none when null), and with {@code suspended} the suspended ones.
     */
    public Uni<Set<UUID>> leftOut(SqlClient client, List<UUID> ids, OffsetDateTime freshAsOf, boolean suspended) {
        return client.preparedQuery(leftOut).execute(Tuple.of(ids.toArray(UUID[]::new), freshAsOf, suspended)).map(rows -> {
            Set<UUID> left = new HashSet<>();
            rows.forEach(row -> left.add(row.getUUID(0)));
            return left;
        });
    }

    /** Cascades whose latest event came after {@code eventId}, in event order. */
    public Uni<List<CascadeEvent>> changedSince(SqlClient client, long eventId, int limit) {
        return client.preparedQuery(changedSince).execute(Tuple.of(eventId, limit)).map(rows -> {
            List<CascadeEvent> changed = new ArrayList<>(rows.size());
            rows.forEach(row -> changed.add(CascadeEvent.map(row)));
            return changed;
        });
    }

    public Uni<Long> latestEventId(SqlClient client) {
        return client.query(latestEventId).execute().map(rows -> rows.iterator().next().getLong(0));
    }

    /** Deletes up to {@code batch} cascades that ended more than {@code maxAge} ago; how many. */
    Uni<Integer> deleteOlderThan(SqlClient client, Duration maxAge, int batch) {
        return client.preparedQuery(deleteOlderThan).execute(Tuple.of(maxAge.toMillis(), batch))
                .map(RowSet::rowCount);
    }

    private static List<UUID> ids(RowSet<Row> rows) {
        List<UUID> ids = new ArrayList<>(rows.size());
        rows.forEach(row -> ids.add(row.getUUID(0)));
        return ids;
    }

    Uni<Optional<Cascade>> find(SqlClient client, UUID id) {
        return client.preparedQuery(find).execute(Tuple.of(id)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            return it.hasNext() ? Optional.of(map(it.next())) : Optional.empty();
        });
    }

    private static Cascade map(Row row) {
        Map<String, JsonObject> runs = new HashMap<>();
        for (Object o : (JsonArray) row.getValue("runs")) {
            JsonObject run = (JsonObject) o;
            runs.put(run.getString("registrationId"), run);
        }
        String status = row.getString("status");
        List<Cascade.Node> nodes = new ArrayList<>();
        for (Object o : (JsonArray) row.getValue("nodes")) {
            JsonObject n = (JsonObject) o;
            List<UUID> after = new ArrayList<>();
            n.getJsonArray("after").forEach(a -> after.add(UUID.fromString((String) a)));
            JsonObject run = runs.get(n.getString("registrationId"));
            nodes.add(new Cascade.Node(UUID.fromString(n.getString("registrationId")), n.getString("schemaName"),
                    n.getString("viewName"), after, run != null ? run.getString("status")
                            : CascadeStatus.ABANDONED.is(status) ? "abandoned" : "pending",
                    run == null ? null : UUID.fromString(run.getString("runId")),
                    run == null ? null : time(run.getString("startedAt")),
                    run == null ? null : time(run.getString("finishedAt")),
                    run == null ? null : run.getString("error")));
        }
        return new Cascade(row.getUUID("id"), row.getString("direction"), row.getUUID("root_registration_id"),
                row.getString("schema_name"), row.getUUID("job_id"), row.getString("trigger"), status, row.getString("instance_id"), row.getInteger("parallelism"),
                row.getString("on_busy"), row.getOffsetDateTime("started_at"), row.getOffsetDateTime("finished_at"),
                row.getOffsetDateTime("cancel_requested_at"), nodes);
    }

    private static OffsetDateTime time(String value) {
        return value == null ? null : OffsetDateTime.parse(value);
    }
}
