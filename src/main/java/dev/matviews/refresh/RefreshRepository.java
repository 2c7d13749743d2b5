package dev.matviews.refresh;

import dev.matviews.registry.Identifiers;
import dev.matviews.registry.RefreshMode;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationRepository;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;
import java.util.UUID;

/**
 * SQL of a refresh: the catalog preflight that also takes the view's advisory lock, the REFRESH
 * with its status write, failure records and the unlock. Lock statements live only here.
 *
 * <p>Lock key: the two-int key space (never used by Flyway's bigint locks), with a fixed
 * namespace and the matview's OID as the second key, so two views never share a lock.
 */
@ApplicationScoped
public class RefreshRepository {

    /** 'matv' in ASCII: the first key of every lock this service takes. */
    public static final int LOCK_NAMESPACE = 0x6D617476;

    private static final String PREFLIGHT = """
            SELECT %s, m.relid::int4 AS lock_key, m.populated,
                   coalesce(ix.usable, false) AS usable, ix.rejected,
                   CASE WHEN m.relid IS NOT NULL THEN pg_try_advisory_lock(%d, m.relid::int4) END AS locked
            FROM _ayb_matview_refreshes r
            LEFT JOIN LATERAL (
                SELECT c.oid AS relid, c.relispopulated AS populated
                FROM pg_catalog.pg_class c
                JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = r.schema_name AND c.relname = r.view_name AND c.relkind = 'm'
            ) m ON true
            LEFT JOIN LATERAL (
                -- PostgreSQL's own test (is_usable_unique_index in matview.c)
                SELECT bool_or(u.reason IS NULL) AS usable,
                       string_agg(u.name || ' is ' || u.reason, '; ' ORDER BY u.name)
                           FILTER (WHERE u.reason IS NOT NULL) AS rejected
                FROM (
                    SELECT quote_ident(ic.relname) AS name,
                           CASE WHEN NOT i.indisvalid THEN 'invalid'
                                WHEN NOT i.indimmediate THEN 'deferrable'
                                WHEN i.indpred IS NOT NULL THEN 'partial (has a WHERE clause)'
                                WHEN i.indexprs IS NOT NULL THEN 'on an expression'
                                WHEN am.amname <> 'btree' THEN 'not a btree index'
                                WHEN i.indnkeyatts = 0 THEN 'without key columns'
                           END AS reason
                    FROM pg_catalog.pg_index i
                    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                    JOIN pg_catalog.pg_am am ON am.oid = ic.relam
                    WHERE i.indrelid = m.relid AND i.indisunique
                ) u
            ) ix ON true
            WHERE r.id = $1
            """.formatted(prefixed("r.", RegistrationRepository.COLUMNS), LOCK_NAMESPACE);

    private static final String RECORD_SUCCESS = """
            UPDATE _ayb_matview_refreshes
               SET last_refresh_at = clock_timestamp(),
                   last_refresh_duration_ms = (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::int,
                   last_refresh_status = 'success',
                   last_refresh_error = NULL,
                   updated_at = clock_timestamp()
             WHERE id = '%s'
            RETURNING %s""";

    private static final String RECORD_FAILURE = """
            UPDATE _ayb_matview_refreshes
               SET last_refresh_at = clock_timestamp(),
                   last_refresh_duration_ms = $2,
                   last_refresh_status = 'error',
                   last_refresh_error = $3,
                   updated_at = clock_timestamp()
             WHERE id = $1
            RETURNING %s""".formatted(RegistrationRepository.COLUMNS);

    /** Looks up the registration and its view and, if the view exists, tries its lock: one round trip. */
    Uni<Preflight> preflightAndLock(SqlConnection conn, UUID id) {
        return conn.preparedQuery(PREFLIGHT).execute(Tuple.of(id)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            if (!it.hasNext()) {
                return new Preflight.Unknown();
            }
            Row row = it.next();
            Registration registration = RegistrationRepository.map(row);
            Boolean locked = row.getBoolean("locked");
            if (locked == null) {
                return new Preflight.Gone(registration);
            }
            if (!locked) {
                return new Preflight.Busy(registration);
            }
            return new Preflight.Locked(registration, row.getInteger("lock_key"), row.getBoolean("populated"),
                    row.getBoolean("usable"), row.getString("rejected"));
        });
    }

    /**
     * REFRESH and the success record in one simple-protocol message: one implicit transaction, so
     * "refreshed" and "recorded as refreshed" commit together with a single WAL flush, in one round
     * trip. The duration is measured by the server around the REFRESH alone.
     */
    Uni<Optional<Registration>> refreshAndRecordSuccess(SqlConnection conn, Registration registration) {
        String sql = refreshSql(registration.schemaName(), registration.viewName(), registration.refreshMode())
                + ";\n" + RECORD_SUCCESS.formatted(registration.id(), RegistrationRepository.COLUMNS);
        return conn.query(sql).execute().map(first -> RegistrationRepository.first(first.next()));
    }

    Uni<Optional<Registration>> recordFailure(SqlClient client, UUID id, int durationMs, String error) {
        return client.preparedQuery(RECORD_FAILURE).execute(Tuple.of(id, durationMs, error))
                .map(RegistrationRepository::first);
    }

    /** Releases one hold of the lock; false if this session did not hold it. */
    Uni<Boolean> unlock(SqlConnection conn, int lockKey) {
        return conn.query("SELECT pg_advisory_unlock(" + LOCK_NAMESPACE + ", " + lockKey + ")").execute()
                .map(rows -> rows.iterator().next().getBoolean(0));
    }

    /** The statement a refresh runs; identifiers are validated at registration and always quoted. */
    public static String refreshSql(String schema, String view, RefreshMode mode) {
        return "REFRESH MATERIALIZED VIEW " + (mode == RefreshMode.CONCURRENT ? "CONCURRENTLY " : "")
                + Identifiers.qualified(schema, view);
    }

    private static String prefixed(String prefix, String columns) {
        return prefix + columns.replace(", ", ", " + prefix).replace(",\n", ",\n" + prefix);
    }
}
