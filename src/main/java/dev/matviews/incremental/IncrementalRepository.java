package dev.matviews.incremental;

import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * SQL of incremental views' lifecycle: the table, its maintenance plan, the capture on its source
 * tables (migration V18's _matviews_sync_capture), and its removal. Refreshes go through the
 * refresh path, which calls V18's _matviews_apply.
 */
@ApplicationScoped
public class IncrementalRepository {

    private final String insertPlan;
    private final String syncCapture;
    private final String apply;
    private final String deletePlan;

    public IncrementalRepository(OwnSchema schema) {
        String plans = schema.qualify("_matviews_incremental");
        this.insertPlan = "INSERT INTO " + plans + " (registration_id, source_oids, shape, apply_sql, view_oid)"
                + " VALUES ($1, $2::bigint[]::oid[], " + schema.qualify("_matviews_source_shape")
                + "($2::bigint[]::oid[]), $3, $4::text::regclass)";
        // in oid order, so that two registrations lock shared tables in the same order
        this.syncCapture = "SELECT " + schema.qualify("_matviews_sync_capture") + "(o)"
                + " FROM unnest($1::bigint[]::oid[]) o ORDER BY o";
        this.apply = "SELECT " + schema.qualify("_matviews_apply") + "($1, NULL, $2::float8)";
        this.deletePlan = "DELETE FROM " + plans + " WHERE registration_id = $1 RETURNING source_oids::bigint[]";
    }

    /** Sets lock_timeout for the rest of the caller's transaction. */
    Uni<Void> lockTimeout(SqlClient tx, long millis) {
        return tx.preparedQuery("SELECT set_config('lock_timeout', $1, true)").execute(Tuple.of(Long.toString(millis)))
                .replaceWithVoid();
    }

    /** Runs a statement made by {@link MaintenancePlan} (no parameters: the simple protocol). */
    Uni<Void> run(SqlClient tx, String sql) {
        return tx.query(sql).execute().replaceWithVoid();
    }

    /** Records the plan of the view {@code qualified} (quoted, as SQL names it). */
    Uni<Void> insertPlan(SqlClient tx, UUID registrationId, List<Long> sources, String applySql, String qualified) {
        return tx.preparedQuery(insertPlan)
                .execute(Tuple.of(registrationId, sources.toArray(Long[]::new), applySql, qualified))
                .replaceWithVoid();
    }

    /** Makes the capture triggers of {@code tables} what their claims need (takes their locks). */
    Uni<Void> syncCapture(SqlClient tx, List<Long> tables) {
        return tables.isEmpty() ? Uni.createFrom().voidItem()
                : tx.preparedQuery(syncCapture).execute(Tuple.of((Object) tables.toArray(Long[]::new))).replaceWithVoid();
    }

    /** Populates the view: its first apply, a rebuild, recorded on no run. */
    Uni<String> populate(SqlClient tx, UUID registrationId, double rebuildShare) {
        return tx.preparedQuery(apply).execute(Tuple.of(registrationId, rebuildShare))
                .map(rows -> rows.iterator().next().getString(0));
    }

    /** Removes the plan; the tables it read (whose capture must then be synced), empty if there was none. */
    Uni<List<Long>> deletePlan(SqlClient tx, UUID registrationId) {
        return tx.preparedQuery(deletePlan).execute(Tuple.of(registrationId)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            List<Long> oids = new ArrayList<>();
            if (it.hasNext()) {
                for (Object o : it.next().getArrayOfLongs(0)) {
                    oids.add((Long) o);
                }
            }
            return oids;
        });
    }
}
