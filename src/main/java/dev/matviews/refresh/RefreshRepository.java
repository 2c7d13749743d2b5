package dev.matviews.refresh;

import dev.matviews.db.AdvisoryLocks;
import dev.matviews.db.CatalogRules;
import dev.matviews.db.Warmup;
import dev.matviews.db.OwnSchema;
import dev.matviews.registry.Identifiers;
import dev.matviews.registry.RefreshMode;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationRepository;
import dev.matviews.runs.Run;
import dev.matviews.runs.RunStatus;
import dev.matviews.runs.Trigger;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowIterator;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL of a refresh, and the one writer of a live run: the catalog preflight that also takes the
 * view's advisory lock and starts the run, the REFRESH with its success record, and the records
 * of a refresh that failed, was refused or lost the lock. What follows from a run's start and end (the registry's outcome columns, the NOTIFY to every replica) is done by the
 * database, in the same statement (migration V5).
 *
 * <p>Lock key: see {@link AdvisoryLocks}, which also releases it; the matview's OID is the second
 * key, so two views never share a lock.
 */
@ApplicationScoped
public class RefreshRepository implements Warmup {

    private static final String PREFLIGHT = """
            WITH pre AS MATERIALIZED (
                SELECT r.*, m.relid::int4 AS lock_key, m.relid AS view_oid, m.populated, m.missing_privilege, m.owner,
                       quote_ident(current_user) AS role, coalesce(ix.usable, false) AS usable, ix.rejected,
                       -- Known unchanged (skipUnchanged): no lock, no REFRESH, a skipped run below.
                       coalesce(r.skip_unchanged AND chk.kept_run_id IS NOT NULL AND chk.reason IS NULL
                                AND m.missing_privilege IS NULL, false) AS unchanged,
                       chk.reason AS refresh_needed, chk.kept_run_id, chk.kept_started_at, chk.fingerprint,
                       CASE WHEN m.relid IS NOT NULL AND NOT coalesce(r.skip_unchanged AND chk.kept_run_id IS NOT NULL
                                AND chk.reason IS NULL AND m.missing_privilege IS NULL, false) THEN %2$s END AS locked,
                       CASE WHEN r.refresh_mode <> 'auto' THEN r.refresh_mode
                            WHEN m.populated AND ix.usable THEN 'concurrent' ELSE 'standard' END AS mode_used,
                       CASE WHEN r.refresh_mode <> 'auto' THEN 'registered as ' || r.refresh_mode
                            WHEN NOT m.populated
                                 THEN 'auto: standard, the view is not populated (CONCURRENTLY needs it populated)'
                            WHEN ix.usable THEN 'auto: concurrent, the view is populated and unique index '
                                 || ix.usable_index || ' qualifies'
                            ELSE 'auto: standard, no unique index CONCURRENTLY can use'
                                 || coalesce(' (' || ix.rejected || ')', '') END
                           || coalesce('; refreshed, not skipped: ' || chk.reason, '') AS mode_reason,
                       -- The running run needs no wait for its WAL flush: a crash that loses it
                       -- loses the refresh too, and the success commit flushes it anyway.
                       set_config('synchronous_commit', 'off', true) AS async_commit
                FROM %1$s r
                LEFT JOIN LATERAL (
                    SELECT c.oid AS relid, c.relispopulated AS populated, %4$s AS missing_privilege,
                           c.relowner::regrole::text AS owner
                    FROM pg_catalog.pg_class c
                    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = r.schema_name AND c.relname = r.view_name
                      -- an incremental view is a table matviews created and keeps
                      AND c.relkind = CASE WHEN r.refresh_mode = 'incremental' THEN 'r' ELSE 'm' END
                ) m ON true
                LEFT JOIN LATERAL (
                    SELECT bool_or(u.reason IS NULL) AS usable, min(u.name) FILTER (WHERE u.reason IS NULL) AS usable_index,
                           string_agg(u.name || ' is ' || u.reason, '; ' ORDER BY u.name)
                               FILTER (WHERE u.reason IS NOT NULL) AS rejected
                    FROM (
                        SELECT quote_ident(ic.relname) AS name,
                               %5$s AS reason
                        FROM pg_catalog.pg_index i
                        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                        JOIN pg_catalog.pg_am am ON am.oid = ic.relam
                        WHERE i.indrelid = m.relid AND i.indisunique
                    ) u
                ) ix ON true
                -- Only for skipUnchanged. OFFSET 0 keeps the subquery from being flattened into a join
                -- filter applied after the call: the filter stays a one-time filter, and the function
                -- is not called at all otherwise.
                LEFT JOIN LATERAL (
                    SELECT f.* FROM %6$s(m.relid, r.id, r.max_skip_age_seconds) f
                     WHERE r.skip_unchanged AND m.relid IS NOT NULL
                    OFFSET 0
                ) chk ON true
                WHERE r.id = $1
            ), run AS (
                -- Only a lock holder whose refresh can start writes a running run, committed with
                -- this statement, so the history shows the refresh before REFRESH begins.
                INSERT INTO %3$s AS run (registration_id, schema_name, view_name, refresh_mode, trigger, status,
                                         instance_id, backend_pid, backend_start, lock_key, mode_reason, cascade_id,
                                         tracking, horizon, data_timestamp)
                SELECT pre.id, pre.schema_name, pre.view_name, pre.mode_used, $2, 'running', $3, pg_backend_pid(),
                       (SELECT a.backend_start FROM pg_catalog.pg_stat_get_activity(pg_backend_pid()) a),
                       pre.lock_key, pre.mode_reason, $4::uuid, pre.fingerprint,
                       -- Change tracking: no snapshot this run takes later has an older xmin.
                       CASE WHEN pre.skip_unchanged THEN pg_snapshot_xmin(pg_current_snapshot()) END,
                       -- Until it succeeds, the data timestamp the registered matviews it reads have
                       -- now (before REFRESH reads them): its data will be no newer than theirs.
                       %7$s(pre.view_oid)
                  FROM pre
                 WHERE pre.locked AND pre.missing_privilege IS NULL
                   AND (pre.mode_used IN ('standard', 'incremental') OR (pre.populated AND pre.usable))
                RETURNING run.*
            ), kept AS (
                INSERT INTO %3$s AS run (registration_id, schema_name, view_name, refresh_mode, trigger, status,
                                         instance_id, started_at, finished_at, duration_ms, error, cascade_id,
                                         kept_run_id, data_timestamp)
                SELECT pre.id, pre.schema_name, pre.view_name, pre.refresh_mode, $2, 'skipped', $3, clock_timestamp(),
                       clock_timestamp(), 0, 'skipped: unchanged since run ' || pre.kept_run_id || ' (started '
                       || pre.kept_started_at || '), whose data the view keeps', $4::uuid, pre.kept_run_id,
                       -- proven unchanged as of now, and no newer than the registered matviews it reads
                       %8$s(statement_timestamp(), %7$s(pre.view_oid))
                  FROM pre
                 WHERE pre.unchanged
                RETURNING run.*
            )
            SELECT pre.*, run.id AS run_id, run.backend_pid, run.started_at, run.event_id,
                   kept.id AS skipped_run_id, kept.started_at AS skipped_at, kept.event_id AS skipped_event_id,
                   kept.error AS skipped_reason
              FROM pre LEFT JOIN run ON true LEFT JOIN kept ON true
            """;

    /**
     * Success, in the REFRESH's own transaction, with its data timestamp (the arrival of this
     * message: REFRESH's snapshot is taken after it; least() skips the NULL of a view that reads no
     * registered matview and keeps the bound the preflight wrote for one that does, -infinity when
     * one of them has none; docs/freshness.md),
     * the registration as it now is (the trigger has written the outcome by the time the second
     * statement reads it), and the view's lock let go.
     * The unlock is the transaction's last statement, so it runs only if everything before it
     * succeeded, and anything that fails after it (the commit) rolls the refresh back as well;
     * a session waiting for the lock from then on still queues behind this transaction's table
     * lock until the commit.
     */
    private static final String RECORD_SUCCESS = """
            UPDATE %1$s AS run SET status = 'success', finished_at = clock_timestamp(), xact = pg_current_xact_id(),
             snapshot = nullif(current_setting('matviews.snapshot', true), '')::pg_snapshot,
             data_timestamp = least(statement_timestamp(), run.data_timestamp),
             duration_ms = (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::int, event_id = %2$s
             WHERE run.id = '%%1$s';
            SELECT * FROM %3$s WHERE id = '%%2$s';
            %%3$s""";

    /**
     * Session settings for the refresh, local to its transaction so the pooled connection goes
     * back unchanged. The last item cancels this very statement if a cancel was requested for the
     * run before REFRESH began (a pg_cancel_backend then would have found the session idle), or
     * for its cascade: a cancel that read the cascade's running nodes before this run committed
     * did not see it, but committed its mark before this statement began.
     */
    private static final String SETTINGS = """
            SELECT set_config('statement_timeout', '%2$d', true), set_config('lock_timeout', '%3$d', true),
             set_config('client_connection_check_interval', '%4$d', true), (SELECT pg_cancel_backend(pg_backend_pid())
             FROM %1$s WHERE id = '%5$s' AND (cancel_requested_at IS NOT NULL%6$s))%7$s""";

    /**
     * SETTINGS' last item for a refresh of a skipUnchanged registration: the snapshot taken before
     * REFRESH, which sees no more than REFRESH does, kept for the success record.
     */
    private static final String TAKE_SNAPSHOT = ",\n set_config('matviews.snapshot', pg_current_snapshot()::text, true)";

    /** SETTINGS' extra condition for a node of a cascade; a single refresh's message stays as short as before. */
    private static final String CASCADE_CANCELLED =
            " OR EXISTS (SELECT FROM %1$s WHERE id = '%2$s' AND cancel_requested_at IS NOT NULL)";

    private final String preflight;
    private final String recordSuccess;
    private final String runs;
    private final String cascades;
    private final String finish;
    private final String insertFailed;
    private final String insertSkipped;
    /** An incremental view's refresh: the apply function of migration V18 (registration, run). */
    private final String applySql;

    public RefreshRepository(OwnSchema schema, dev.matviews.config.MatviewsConfig config) {
        double rebuildShare = config.incremental().rebuildShare();
        this.runs = schema.runs();
        this.cascades = schema.cascades();
        this.preflight = PREFLIGHT.formatted(schema.registrations(), AdvisoryLocks.tryLock("m.relid::int4"), runs,
                CatalogRules.MISSING_PRIVILEGE, CatalogRules.UNUSABLE_INDEX_REASON,
                schema.qualify("_matviews_refresh_needed"), schema.qualify("_matviews_upstream_data_at"),
                schema.qualify("_matviews_bounded_data_at"));
        this.applySql = "SELECT " + schema.qualify("_matviews_apply") + "('%s'::uuid, '%s'::uuid, "
                + rebuildShare + "::float8)";
        this.recordSuccess = RECORD_SUCCESS.formatted(runs, schema.nextRunEvent(), schema.registrations());
        this.finish = "UPDATE " + runs + " AS run SET status = $2, error = $3, sqlstate = $4, duration_ms = $5,"
                + " finished_at = clock_timestamp(), event_id = " + schema.nextRunEvent()
                + " WHERE run.id = $1 AND run.status IN ('running', 'abandoned')";
        this.insertFailed = "INSERT INTO " + runs + " AS run (registration_id, schema_name, view_name, refresh_mode,"
                + " trigger, status, instance_id, backend_pid, started_at, finished_at, duration_ms, error, sqlstate,"
                + " cascade_id)"
                + " SELECT reg.id, reg.schema_name, reg.view_name, reg.refresh_mode, $2, 'error', $3, pg_backend_pid(),"
                + " clock_timestamp(), clock_timestamp(), 0, $4, $5, $6::uuid FROM " + schema.registry()
                + " reg WHERE reg.id = $1 RETURNING run.id";
        this.insertSkipped = "INSERT INTO " + runs + " AS run (registration_id, schema_name, view_name,"
                + " refresh_mode, trigger, status, instance_id, started_at, finished_at, duration_ms, error, cascade_id)"
                + " SELECT reg.id, reg.schema_name, reg.view_name, reg.refresh_mode, $2, 'skipped', $3,"
                + " clock_timestamp(), clock_timestamp(), 0, $4, $5::uuid FROM " + schema.registry()
                + " reg WHERE reg.id = $1 RETURNING " + Run.COLUMNS;
    }

    /**
     * Looks up the registration and its view, tries the view's lock, and, if the refresh can
     * start, records a running run: one statement, one round trip.
     */
    Uni<Preflight> preflightAndLock(SqlConnection conn, UUID id, Trigger trigger, String instanceId, UUID cascadeId) {
        return conn.preparedQuery(preflight).execute(Tuple.of(id, trigger.dbName(), instanceId, cascadeId)).map(rows -> {
            RowIterator<Row> it = rows.iterator();
            if (!it.hasNext()) {
                return new Preflight.Unknown();
            }
            Row row = it.next();
            Registration registration = RegistrationRepository.map(row);
            UUID skippedRunId = row.getUUID("skipped_run_id");
            if (skippedRunId != null) {
                String reason = row.getString("skipped_reason");
                OffsetDateTime at = row.getOffsetDateTime("skipped_at");
                return new Preflight.Unchanged(registration, new Run(skippedRunId, registration.id(),
                        registration.schemaName(), registration.viewName(), registration.refreshMode(), trigger,
                        RunStatus.SKIPPED, instanceId, null, at, at, 0, reason, null, null, null, cascadeId, null, null,
                        row.getLong("skipped_event_id")), row.getUUID("kept_run_id"));
            }
            Boolean locked = row.getBoolean("locked");
            if (locked == null) {
                return new Preflight.Gone(registration);
            }
            if (!locked) {
                return new Preflight.Busy(registration);
            }
            int lockKey = row.getInteger("lock_key");
            String missing = row.getString("missing_privilege");
            if (missing != null) {
                return new Preflight.Refused(registration, lockKey,
                        new Preflight.Refusal(row.getString("role"), missing, row.getString("owner")));
            }
            UUID runId = row.getUUID("run_id");
            if (runId == null) {
                return new Preflight.Unready(registration, lockKey, row.getBoolean("populated"),
                        row.getString("rejected"));
            }
            return new Preflight.Started(registration, lockKey, new Run(runId, registration.id(),
                    registration.schemaName(), registration.viewName(), RefreshMode.parse(row.getString("mode_used")),
                    trigger, RunStatus.RUNNING, instanceId, row.getInteger("backend_pid"),
                    row.getOffsetDateTime("started_at"), null, null, null, null, null, row.getString("mode_reason"),
                    cascadeId, null, null, row.getLong("event_id")), row.getString("fingerprint") != null);
        });
    }

    /** The preflight prepared: for a registration that cannot exist it locks, records and changes nothing. */
    @Override
    public Uni<Void> warm(SqlConnection conn) {
        return preflightAndLock(conn, new UUID(0, 0), Trigger.SCHEDULE, "warm-up", null).replaceWithVoid();
    }

    /** What the REFRESH message answered: the registration after the run, and whether the lock was let go. */
    record Refreshed(Optional<Registration> registration, boolean unlocked) {
    }

    /**
     * Settings, REFRESH, the success record and the unlock in one simple-protocol message: one
     * implicit transaction, so "refreshed" and "recorded as refreshed" commit together with a
     * single WAL flush, in one round trip. The duration is measured by the server around the
     * REFRESH alone.
     */
    Uni<Refreshed> refreshRecordAndUnlock(SqlConnection conn, Run run, int lockKey, RefreshSettings settings,
                                          boolean tracked) {
        String sql = SETTINGS.formatted(runs, settings.statementTimeoutMs(), settings.lockTimeoutMs(),
                settings.connectionCheckIntervalMs(), run.id(),
                run.cascadeId() == null ? "" : CASCADE_CANCELLED.formatted(cascades, run.cascadeId()),
                tracked ? TAKE_SNAPSHOT : "")
                + ";\n" + (run.refreshMode() == RefreshMode.INCREMENTAL
                        ? applySql.formatted(run.registrationId(), run.id())
                        : refreshSql(run.schemaName(), run.viewName(), run.refreshMode()))
                + ";\n" + recordSuccess.formatted(run.id(), run.registrationId(), AdvisoryLocks.unlockStatement(lockKey));
        return conn.query(sql).execute().map(settingsRows -> {
            var registrationRows = settingsRows.next().next().next();
            var unlockRows = registrationRows.next();
            return new Refreshed(RegistrationRepository.first(registrationRows),
                    unlockRows.iterator().next().getBoolean(0));
        });
    }

    /** Ends a running (or meanwhile abandoned) run with a failure status; false if there is no such run. */
    public Uni<Boolean> finishFailed(SqlClient client, UUID runId, RunStatus status, String error, String sqlState,
                                     int durationMs) {
        return client.preparedQuery(finish).execute(Tuple.of(runId, status.dbName(), error, sqlState, durationMs))
                .map(rows -> rows.rowCount() == 1);
    }

    /**
     * Records a refresh that failed before it could start (view gone, prerequisites or privileges
     * missing); the run's id, or null if the registration is gone.
     */
    Uni<UUID> insertFailed(SqlClient client, UUID registrationId, Trigger trigger, String instanceId, String error,
                           String sqlState, UUID cascadeId) {
        return client.preparedQuery(insertFailed)
                .execute(Tuple.tuple().addUUID(registrationId).addString(trigger.dbName()).addString(instanceId)
                        .addString(error).addString(sqlState).addUUID(cascadeId))
                .map(rows -> {
                    RowIterator<Row> it = rows.iterator();
                    return it.hasNext() ? it.next().getUUID(0) : null;
                });
    }

    /**
     * Records a refresh that did not happen (another session held the view's lock, or a cascade
     * skipped it); the run, or null if the registration is gone.
     */
    Uni<Run> insertSkipped(SqlClient client, UUID registrationId, Trigger trigger, String instanceId, String reason,
                           UUID cascadeId) {
        return client.preparedQuery(insertSkipped)
                .execute(Tuple.tuple().addUUID(registrationId).addString(trigger.dbName()).addString(instanceId)
                        .addString(reason).addUUID(cascadeId))
                .map(rows -> {
                    RowIterator<Row> it = rows.iterator();
                    return it.hasNext() ? Run.map(it.next()) : null;
                });
    }

    /** The statement a refresh runs; identifiers are validated at registration and always quoted. */
    public static String refreshSql(String schema, String view, RefreshMode mode) {
        if (mode == RefreshMode.AUTO || mode == RefreshMode.INCREMENTAL) {
            throw new IllegalArgumentException("auto is decided by the preflight; a refresh runs standard or concurrent");
        }
        return "REFRESH MATERIALIZED VIEW " + (mode == RefreshMode.CONCURRENT ? "CONCURRENTLY " : "")
                + Identifiers.qualified(schema, view);
    }

}
