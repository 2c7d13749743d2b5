package dev.matviews.cascade;

import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** SQL of cascades: their row (plan and outcome) and their nodes' runs. */
@ApplicationScoped
public class CascadeRepository {

    static final String TABLE = "_matviews_cascades";

    private final String insert;
    private final String finish;
    private final String find;
    private final String requestCancel;
    private final String cancelRequested;

    public CascadeRepository(OwnSchema schema) {
        String cascades = schema.qualify(TABLE);
        this.insert = "INSERT INTO " + cascades + " (direction, root_registration_id, trigger, instance_id,"
                + " parallelism, on_busy, nodes) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        this.finish = "UPDATE " + cascades + " SET status = $2, finished_at = clock_timestamp()"
                + " WHERE id = $1 AND status = 'running'";
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
        this.cancelRequested = "SELECT cancel_requested_at IS NOT NULL FROM " + cascades + " WHERE id = $1";
    }

    Uni<UUID> insert(Pool pool, CascadePlan.Direction direction, UUID root, String trigger, String instanceId,
                     int parallelism, String onBusy, CascadePlan plan) {
        JsonArray nodes = new JsonArray();
        for (CascadePlan.Node n : plan.nodes()) {
            JsonArray after = new JsonArray();
            n.after().forEach(a -> after.add(a.toString()));
            nodes.add(new JsonObject().put("registrationId", n.registrationId().toString())
                    .put("schemaName", n.schemaName()).put("viewName", n.viewName()).put("after", after));
        }
        return pool.preparedQuery(insert)
                .execute(Tuple.tuple().addString(direction.name().toLowerCase()).addUUID(root).addString(trigger)
                        .addString(instanceId).addInteger(parallelism).addString(onBusy).addValue(nodes))
                .map(rows -> rows.iterator().next().getUUID(0));
    }

    Uni<Void> finish(Pool pool, UUID id, String status) {
        return pool.preparedQuery(finish).execute(Tuple.of(id, status)).replaceWithVoid();
    }

    Uni<Boolean> cancelRequested(Pool pool, UUID id) {
        return pool.preparedQuery(cancelRequested).execute(Tuple.of(id)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            return it.hasNext() && it.next().getBoolean(0);
        });
    }

    /** Marks the cascade for cancellation; its status and coordinating instance, if it exists. */
    Uni<Optional<String[]>> requestCancel(Pool pool, UUID id) {
        return pool.preparedQuery(requestCancel).execute(Tuple.of(id)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            if (!it.hasNext()) {
                return Optional.empty();
            }
            Row row = it.next();
            return Optional.of(new String[]{row.getString("status"), row.getString("instance_id")});
        });
    }

    Uni<Optional<Cascade>> find(Pool pool, UUID id) {
        return pool.preparedQuery(find).execute(Tuple.of(id)).map(rows -> {
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
                    n.getString("viewName"), after, run == null ? "pending" : run.getString("status"),
                    run == null ? null : UUID.fromString(run.getString("runId")),
                    run == null ? null : time(run.getString("startedAt")),
                    run == null ? null : time(run.getString("finishedAt")),
                    run == null ? null : run.getString("error")));
        }
        return new Cascade(row.getUUID("id"), row.getString("direction"), row.getUUID("root_registration_id"),
                row.getString("trigger"), status, row.getString("instance_id"), row.getInteger("parallelism"),
                row.getString("on_busy"), row.getOffsetDateTime("started_at"), row.getOffsetDateTime("finished_at"),
                row.getOffsetDateTime("cancel_requested_at"), nodes);
    }

    private static OffsetDateTime time(String value) {
        return value == null ? null : OffsetDateTime.parse(value);
    }
}
