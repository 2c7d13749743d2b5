package dev.matviews.tracking;

import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL of change tracking: the triggers on a view's source tables, who claims them, and the change
 * rows they write. The decisions themselves are functions of migration V11, shared with the
 * refresh preflight.
 */
@ApplicationScoped
public class ChangeTrackingRepository {

    private final String matview;
    private final String track;
    private final String untrack;
    private final String status;
    private final String compact;
    private final String heartbeat;
    private final String logState;

    public ChangeTrackingRepository(OwnSchema schema) {
        String view = "(SELECT c.oid::bigint FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = r.schema_name AND c.relname = r.view_name AND c.relkind = 'm')";
        this.matview = "SELECT " + view + " AS relid FROM " + schema.registry() + " r WHERE r.id = $1";
        this.track = "SELECT t.relid::regclass::text AS table_name, t.created FROM "
                + schema.qualify("_matviews_track") + "($1::bigint::oid, $2) t";
        this.untrack = "SELECT t.relid, t.dropped FROM " + schema.qualify("_matviews_untrack") + "($1) t";
        this.status = """
                SELECT r.skip_unchanged,
                       (SELECT coalesce(jsonb_agg(jsonb_build_object('table', s.relid::regclass::text,
                                   'tracked', tg.tgenabled = 'A' AND tt.relid IS NOT NULL)
                                   ORDER BY s.relid::regclass::text), '[]')
                          FROM (SELECT DISTINCT relid, kind FROM %2$s($2::bigint::oid) WHERE kind IN ('r', 'p')) s
                          LEFT JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = s.relid AND tg.tgname = '_matviews_track_changes'
                          LEFT JOIN %3$s tt ON tt.relid = s.relid AND tt.registration_id = r.id) AS tables,
                       (SELECT coalesce(jsonb_agg(DISTINCT s.relid::regclass::text), '[]')
                          FROM %2$s($2::bigint::oid) s WHERE s.kind = 'm') AS matviews,
                       st.blocker, nd.reason
                  FROM %1$s r
                  CROSS JOIN LATERAL %4$s($2::bigint::oid, r.id) st
                  CROSS JOIN LATERAL %5$s($2::bigint::oid, r.id, r.max_skip_age_seconds) nd
                 WHERE r.id = $1""".formatted(schema.registry(), schema.qualify("_matviews_sources"),
                schema.qualify("_matviews_tracked_tables"), schema.qualify("_matviews_change_state"),
                schema.qualify("_matviews_refresh_needed"));
        this.compact = "SELECT " + schema.qualify("_matviews_compact_changes") + "($1, $2::text::xid8)";
        this.heartbeat = "SELECT " + schema.qualify("_matviews_capture_heartbeat") + "($1, $2)";
        this.logState = """
                SELECT pg_total_relation_size(c.log_oid) AS bytes,
                       CASE WHEN pg_relation_size(c.log_oid) > 8 * 1024 * 1024
                            THEN (SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = c.log_oid)
                            ELSE (SELECT count(*) FROM %1$s) END AS rows,
                       (SELECT min(logged_at) FROM %1$s) AS oldest,
                       c.stopped_at IS NULL AND c.deadline >= statement_timestamp() AS capturing,
                       coalesce(c.stopped_at, CASE WHEN c.deadline < statement_timestamp() THEN c.deadline END) AS stopped_at,
                       coalesce(c.stop_reason, CASE WHEN c.deadline < statement_timestamp()
                                THEN 'no replica of matviews compacted the change log in time' END) AS stop_reason,
                       c.deadline, c.max_age_seconds, c.max_bytes
                  FROM %2$s c""".formatted(schema.qualify("_matviews_changes"), schema.qualify("_matviews_capture"));
    }

    /** The OID of the registration's materialized view; empty if the registration or its view is gone. */
    Uni<Optional<Long>> matview(SqlClient client, UUID registrationId) {
        return client.preparedQuery(matview).execute(Tuple.of(registrationId)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            return it.hasNext() ? Optional.ofNullable(it.next().getLong("relid")) : Optional.empty();
        });
    }

    /** Within the caller's transaction: the trigger on every source table, claimed for the registration. */
    Uni<List<String>> track(SqlClient tx, long viewOid, UUID registrationId) {
        return tx.preparedQuery(track).execute(Tuple.of(viewOid, registrationId)).map(rows -> {
            List<String> tables = new ArrayList<>();
            rows.forEach(row -> tables.add(row.getString("table_name")));
            return tables;
        });
    }

    /** Drops the registration's claims; the triggers nobody claims any more go. How many claims there were. */
    Uni<Integer> untrack(SqlClient client, UUID registrationId) {
        return client.preparedQuery(untrack).execute(Tuple.of(registrationId)).map(rows -> rows.size());
    }

    Uni<ChangeTracking> status(SqlClient client, UUID registrationId, long viewOid) {
        return client.preparedQuery(status).execute(Tuple.of(registrationId, viewOid)).map(rows -> {
            Row row = rows.iterator().next();
            List<ChangeTracking.Table> tables = new ArrayList<>();
            for (Object o : (JsonArray) row.getValue("tables")) {
                JsonObject t = (JsonObject) o;
                tables.add(new ChangeTracking.Table(t.getString("table"), Boolean.TRUE.equals(t.getBoolean("tracked"))));
            }
            List<String> matviews = new ArrayList<>();
            ((JsonArray) row.getValue("matviews")).forEach(m -> matviews.add((String) m));
            return new ChangeTracking(registrationId, row.getBoolean("skip_unchanged"), tables, matviews,
                    row.getString("blocker"), row.getString("reason"));
        });
    }

    /** Sets lock_timeout for the rest of the caller's transaction. */
    Uni<Void> lockTimeout(SqlClient tx, long millis) {
        return tx.preparedQuery("SELECT set_config('lock_timeout', $1, true)").execute(Tuple.of(Long.toString(millis)))
                .replaceWithVoid();
    }

    /** The oldest transaction still running: a compaction pass deletes nothing from it on. */
    Uni<String> ceiling(SqlClient client) {
        return client.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").execute()
                .map(rows -> rows.iterator().next().getString(0));
    }

    /** Deletes up to {@code batch} change rows below {@code ceiling} no decision can need any more; how many. */
    Uni<Integer> compact(SqlClient client, int batch, String ceiling) {
        return client.preparedQuery(compact).execute(Tuple.of(batch, ceiling))
                .map(rows -> rows.iterator().next().getInteger(0));
    }

    /**
     * A compaction pass's heartbeat: keeps capture running for {@code maxAgeSeconds} more, or
     * records that it stopped. The stop time, empty while capture runs.
     */
    Uni<Optional<java.time.OffsetDateTime>> heartbeat(SqlClient client, long maxAgeSeconds, long maxBytes) {
        return client.preparedQuery(heartbeat).execute(Tuple.of(maxAgeSeconds, maxBytes))
                .map(rows -> Optional.ofNullable(rows.iterator().next().getOffsetDateTime(0)));
    }

    Uni<ChangeLogState> logState(SqlClient client) {
        return client.query(logState).execute().map(rows -> {
            Row r = rows.iterator().next();
            return new ChangeLogState(r.getLong("bytes"), r.getLong("rows"), r.getOffsetDateTime("oldest"),
                    r.getBoolean("capturing"), r.getOffsetDateTime("stopped_at"), r.getString("stop_reason"),
                    r.getOffsetDateTime("deadline"), r.getLong("max_age_seconds"), r.getLong("max_bytes"));
        });
    }
}
