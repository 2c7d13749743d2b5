package dev.matviews.registry;

import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL of the registry table: a registration's own settings. Its outcome columns follow the run
 * history (a trigger of migration V5) and are never written here. Registrations are read through
 * the view {@value OwnSchema#REGISTRATIONS}, which adds staleness and schedule; a statement that
 * changes a registration returns it in the same shape through the view's own function. Methods
 * take the {@link SqlClient} to run on, so the same statement serves the pool and a pinned
 * connection.
 */
@ApplicationScoped
public class RegistrationRepository {

    /** Wakes every replica's scheduler (its target keeper looks at a new or changed target). */
    private static final String WAKE_SCHEDULERS = "pg_notify('" + dev.matviews.db.Channels.SCHEDULER
            + "', 'targets')";

    private final String insert;
    private final String page;
    private final String findById;
    private final String findByName;
    private final String update;
    private final String delete;
    private final String resume;

    public RegistrationRepository(OwnSchema schema) {
        String table = schema.registry();
        String view = schema.registrations();
        // What the view adds to a changed row: the same function the view is built on.
        String state = "LEFT JOIN LATERAL " + schema.qualify("_matviews_registration_state")
                + "(reg.schema_name, reg.view_name, greatest(reg.last_success_at, reg.last_unchanged_at),"
                + " reg.max_staleness_seconds) st ON true"
                + " LEFT JOIN LATERAL (SELECT round(extract(epoch FROM statement_timestamp() - reg.data_timestamp)::numeric, 3)"
                + "::float8 AS lag_seconds) lag ON true";
        this.insert = """
                WITH target AS (
                    SELECT EXISTS (
                        SELECT 1 FROM pg_catalog.pg_class c
                        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = $1::text AND c.relname = $2::text
                          -- an incremental view is the table its registration created just before
                          AND c.relkind = CASE WHEN $3::text = 'incremental' THEN 'r' ELSE 'm' END) AS is_matview
                ), reg AS (
                    INSERT INTO %1$s AS reg (schema_name, view_name, refresh_mode, statement_timeout_ms,
                                             lock_timeout_ms, max_staleness_seconds, skip_unchanged, max_skip_age_seconds,
                                             target_lag_seconds, target_downstream, definition)
                    SELECT $1::text, $2::text, $3::text, $4::int, $5::int, $6::int, coalesce($7::bool, false), $8::int,
                           $9::int, coalesce($10::bool, false), $11::text
                      FROM target WHERE target.is_matview
                    ON CONFLICT (schema_name, view_name) DO NOTHING
                    RETURNING reg.*
                )
                -- a view with a target: every replica's scheduler wakes, and its keeper looks at it
                SELECT target.is_matview, reg.*, st.*, lag.*,
                       CASE WHEN reg.target_lag_seconds IS NOT NULL THEN %3$s END AS woke
                  FROM target LEFT JOIN reg ON true %2$s
                """.formatted(table, state, WAKE_SCHEDULERS);
        // The keyset condition is always there (from ('', '') on the first page), so that even the
        // generic plan walks the (schema_name, view_name) index from the cursor on.
        this.page = """
                SELECT * FROM %s
                 WHERE (schema_name, view_name) > ($1::text, $2::text)
                   AND ($3::text IS NULL OR schema_name = $3::text)
                   AND ($4::text IS NULL OR CASE $4::text WHEN 'never' THEN last_refresh_status IS NULL
                                                          WHEN 'running' THEN current_run_id IS NOT NULL
                                                          ELSE $4::text = last_refresh_status END)
                   AND ($5::bool IS NULL OR stale = $5::bool)
                   AND ($7::text IS NULL OR view_name = $7::text)
                   AND ($8::bool IS NULL OR (suspended_at IS NOT NULL) = $8::bool)
                 ORDER BY schema_name, view_name
                 LIMIT $6""".formatted(view);
        this.findById = "SELECT * FROM " + view + " WHERE id = $1";
        this.findByName = "SELECT * FROM " + view + " WHERE schema_name = $1 AND view_name = $2";
        this.update = """
                WITH reg AS (
                    UPDATE %1$s AS reg
                       SET refresh_mode = coalesce($2, refresh_mode),
                           statement_timeout_ms = CASE WHEN $3 THEN $4::int ELSE statement_timeout_ms END,
                           lock_timeout_ms = CASE WHEN $5 THEN $6::int ELSE lock_timeout_ms END,
                           max_staleness_seconds = CASE WHEN $7 THEN $8::int ELSE max_staleness_seconds END,
                           skip_unchanged = coalesce($9::bool, skip_unchanged),
                           max_skip_age_seconds = CASE WHEN $10 THEN $11::int ELSE max_skip_age_seconds END,
                           target_lag_seconds = CASE WHEN $12 THEN $13::int ELSE target_lag_seconds END,
                           target_downstream = CASE WHEN $12 THEN coalesce($14::bool, false) ELSE target_downstream END,
                           -- a new target is looked at by the keeper's next pass
                           target_next_at = CASE WHEN $12 THEN NULL ELSE target_next_at END,
                           updated_at = NOW()
                     WHERE id = $1
                    RETURNING reg.*
                )
                SELECT reg.*, st.*, lag.*, CASE WHEN $12 THEN %3$s END AS woke FROM reg %2$s""".formatted(table, state,
                WAKE_SCHEDULERS);
        this.resume = "WITH resumed AS (UPDATE " + table + " SET suspended_at = NULL, suspended_reason = NULL,"
                + " suspended_by = NULL, consecutive_failures = 0, target_next_at = NULL"
                + " WHERE (id = $1 OR suspended_by = $1) AND suspended_at IS NOT NULL RETURNING id)"
                + " SELECT count(*) AS n, CASE WHEN count(*) > 0 THEN " + WAKE_SCHEDULERS + " END AS woke FROM resumed";
        this.delete = "WITH reg AS (DELETE FROM " + table + " AS reg WHERE id = $1 RETURNING reg.*)"
                + " SELECT reg.*, st.*, lag.* FROM reg " + state;
    }

    /** Whether the target was a materialized view, and the new row unless it was already registered. */
    public record InsertResult(boolean isMatview, Optional<Registration> inserted) {
    }

    /** Registers the view if it is a materialized view, in one statement (no check-then-act gap). */
    public Uni<InsertResult> insertIfMatview(SqlClient client, String schema, String view, RefreshMode mode,
                                             Integer statementTimeoutMs, Integer lockTimeoutMs,
                                             Integer maxStalenessSeconds, Boolean skipUnchanged,
                                             Integer maxSkipAgeSeconds, TargetLag targetLag) {
        return insertIfMatview(client, schema, view, mode, statementTimeoutMs, lockTimeoutMs, maxStalenessSeconds,
                skipUnchanged, maxSkipAgeSeconds, targetLag, null);
    }

    /** The same, for an incremental view: {@code definition} is set, and the relation is its table. */
    public Uni<InsertResult> insertIfMatview(SqlClient client, String schema, String view, RefreshMode mode,
                                             Integer statementTimeoutMs, Integer lockTimeoutMs,
                                             Integer maxStalenessSeconds, Boolean skipUnchanged,
                                             Integer maxSkipAgeSeconds, TargetLag targetLag, String definition) {
        return client.preparedQuery(insert)
                .execute(Tuple.tuple().addString(schema).addString(view).addString(mode.dbName())
                        .addInteger(statementTimeoutMs).addInteger(lockTimeoutMs).addInteger(maxStalenessSeconds)
                        .addBoolean(skipUnchanged).addInteger(maxSkipAgeSeconds)
                        .addInteger(targetLag == null ? null : targetLag.seconds())
                        .addBoolean(targetLag != null && targetLag.downstream()).addString(definition))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    boolean isMatview = row.getBoolean("is_matview");
                    Optional<Registration> inserted = row.getUUID("id") == null ? Optional.empty() : Optional.of(map(row));
                    return new InsertResult(isMatview, inserted);
                });
    }

    /** Up to {@code limit} registrations that pass the filter, after (schema, view) in name order. */
    public Uni<List<Registration>> page(SqlClient client, RegistrationFilter filter, String afterSchema,
                                        String afterView, int limit) {
        return client.preparedQuery(page)
                .execute(Tuple.tuple().addString(afterSchema).addString(afterView).addString(filter.schema())
                        .addString(filter.status()).addBoolean(filter.stale()).addInteger(limit)
                        .addString(filter.view()).addBoolean(filter.suspended()))
                .map(RegistrationRepository::mapAll);
    }

    public Uni<Optional<Registration>> findById(SqlClient client, UUID id) {
        return client.preparedQuery(findById).execute(Tuple.of(id)).map(RegistrationRepository::first);
    }

    /** Drops an incremental view's table (identifiers validated at registration, always quoted). */
    public Uni<Void> dropTable(SqlClient client, String schema, String view) {
        return client.query("DROP TABLE IF EXISTS " + Identifiers.qualified(schema, view)).execute().replaceWithVoid();
    }

    public Uni<Optional<Registration>> findByName(SqlClient client, String schema, String view) {
        return client.preparedQuery(findByName).execute(Tuple.of(schema, view)).map(RegistrationRepository::first);
    }

    /** Changes what is present and leaves the rest; null mode: unchanged. */
    public Uni<Optional<Registration>> update(SqlClient client, UUID id, RefreshMode mode,
                                              Setting<Integer> statementTimeoutMs, Setting<Integer> lockTimeoutMs,
                                              Setting<Integer> maxStalenessSeconds, Boolean skipUnchanged,
                                              Setting<Integer> maxSkipAgeSeconds, Setting<TargetLag> targetLag) {
        TargetLag target = targetLag.value();
        Tuple args = Tuple.tuple().addUUID(id).addString(mode == null ? null : mode.dbName())
                .addBoolean(statementTimeoutMs.present()).addInteger(statementTimeoutMs.value())
                .addBoolean(lockTimeoutMs.present()).addInteger(lockTimeoutMs.value())
                .addBoolean(maxStalenessSeconds.present()).addInteger(maxStalenessSeconds.value())
                .addBoolean(skipUnchanged)
                .addBoolean(maxSkipAgeSeconds.present()).addInteger(maxSkipAgeSeconds.value())
                .addBoolean(targetLag.present()).addInteger(target == null ? null : target.seconds())
                .addBoolean(target != null && target.downstream());
        return client.preparedQuery(update).execute(args).map(RegistrationRepository::first);
    }

    /**
     * Resumes a registration and every registration suspended because of it; their failure counts
     * start again and the target keeper looks at them at its next pass. The registration, empty if
     * there is none.
     */
    public Uni<Optional<Registration>> resume(SqlClient client, UUID id) {
        return client.preparedQuery(resume).execute(Tuple.of(id)).flatMap(rows -> findById(client, id));
    }

    public Uni<Optional<Registration>> deleteReturning(SqlClient client, UUID id) {
        return client.preparedQuery(delete).execute(Tuple.of(id)).map(RegistrationRepository::first);
    }

    public static Optional<Registration> first(RowSet<Row> rows) {
        var it = rows.iterator();
        return it.hasNext() ? Optional.of(map(it.next())) : Optional.empty();
    }

    private static List<Registration> mapAll(RowSet<Row> rows) {
        List<Registration> result = new ArrayList<>(rows.size());
        rows.forEach(row -> result.add(map(row)));
        return result;
    }

    /** A row of the registrations view (or of a statement returning the same columns). */
    public static Registration map(Row row) {
        return new Registration(
                row.getUUID("id"),
                row.getString("schema_name"),
                row.getString("view_name"),
                RefreshMode.parse(row.getString("refresh_mode")),
                row.getOffsetDateTime("last_refresh_at"),
                row.getInteger("last_refresh_duration_ms"),
                RefreshStatus.parse(row.getString("last_refresh_status")),
                row.getString("last_refresh_error"),
                row.getOffsetDateTime("created_at"),
                row.getOffsetDateTime("updated_at"),
                row.getOffsetDateTime("last_success_at"),
                row.getUUID("current_run_id"),
                row.getInteger("statement_timeout_ms"),
                row.getInteger("lock_timeout_ms"),
                row.getInteger("max_staleness_seconds"),
                row.getBoolean("stale"),
                ScheduleSummary.from(row.getJsonObject("schedule")),
                Boolean.TRUE.equals(row.getBoolean("skip_unchanged")),
                row.getInteger("max_skip_age_seconds"),
                row.getOffsetDateTime("last_unchanged_at"),
                display(TargetLag.fromColumns(row.getInteger("target_lag_seconds"), row.getBoolean("target_downstream"))),
                row.getOffsetDateTime("data_timestamp"),
                row.getDouble("lag_seconds"),
                row.getOffsetDateTime("target_missed_at"),
                row.getString("target_missed_reason"),
                row.getInteger("consecutive_failures"),
                row.getOffsetDateTime("suspended_at") != null,
                row.getOffsetDateTime("suspended_at"),
                row.getString("suspended_reason"),
                row.getUUID("suspended_by"),
                row.getColumnIndex("definition") >= 0 ? row.getString("definition") : null);
    }

    private static String display(TargetLag target) {
        return target == null ? null : target.display();
    }
}
