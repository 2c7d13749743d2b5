package dev.matviews.db;

import dev.matviews.config.MatviewsConfig;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jboss.logging.Logger;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * Brings matviews' own tables up to date at start-up, before anything uses them. Flyway keeps
 * matviews' history in its own table ({@value OwnSchema#HISTORY}) in matviews' schema, so an
 * application's Flyway or Liquibase history is never read or written, and baselines a schema that
 * already holds the application's objects at version 0, so every migration of matviews still runs.
 *
 * <p>Releases up to 0.1 kept their history in Flyway's default table, flyway_schema_history. If
 * that table is owned by the service's role and holds nothing but those releases' migrations, it
 * is matviews' own, and it is renamed to the new history table, so an upgrade needs no manual
 * step. Any other flyway_schema_history belongs to the application and is left alone (one owned
 * by another role is not even read).
 */
@ApplicationScoped
public class SchemaMigration {

    private static final Logger LOG = Logger.getLogger(SchemaMigration.class);
    static final String LEGACY_HISTORY = "flyway_schema_history";
    /** The migrations of the releases whose history was in flyway_schema_history. */
    private static final String LEGACY_SCRIPTS = "'V1__matview_registry.sql', 'V2__refresh_runs.sql',"
            + " 'V3__jobs_and_schedules.sql', 'V4__staleness.sql'";
    /** Second key of the lock that serialises the move between replicas starting together (no OID is 0). */
    private static final int MOVE_LOCK = 0;

    private static final Duration FIRST_RETRY = Duration.ofMillis(250);
    private static final Duration MAX_RETRY = Duration.ofSeconds(5);

    private final Flyway flyway;
    private final AgroalDataSource dataSource;
    private final OwnSchema schema;
    private final Duration startupWait;

    public SchemaMigration(Flyway flyway, AgroalDataSource dataSource, OwnSchema schema, MatviewsConfig config) {
        this.flyway = flyway;
        this.dataSource = dataSource;
        this.schema = schema;
        this.startupWait = config.database().startupWait();
    }

    /**
     * Runs on the start-up thread before the scheduler starts (its observer has priority 0), so no
     * scheduled task, listener or request sees a table that is not there yet.
     */
    void onStart(@Observes @Priority(-1) StartupEvent event) {
        migrateOnceTheDatabaseAnswers();
    }

    /**
     * A pod may start before its database, or during a failover: an unreachable database (refused
     * or failed connection, a server starting or shutting down) is waited for with backoff, up to
     * matviews.database.startup-wait, instead of exiting into a crash loop. Anything else (a wrong
     * password, missing rights, a failed migration) fails the start at once.
     */
    void migrateOnceTheDatabaseAnswers() {
        long start = System.nanoTime();
        long deadline = start + startupWait.toNanos();
        Duration delay = FIRST_RETRY;
        for (int attempt = 1; ; attempt++) {
            try {
                migrate();
                if (attempt > 1) {
                    LOG.infof("The database answered after %d s; starting", Duration.ofNanos(System.nanoTime() - start)
                            .toSeconds());
                }
                return;
            } catch (RuntimeException e) {
                String unreachable = unreachable(e);
                if (unreachable == null || System.nanoTime() + delay.toNanos() > deadline) {
                    throw e;
                }
                LOG.infof("Waiting for the database (attempt %d, up to %s in all): %s", attempt, startupWait, unreachable);
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                delay = delay.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : delay.multipliedBy(2);
            }
        }
    }

    /** What makes the database unreachable, if that is why {@code e} happened; null otherwise. */
    static String unreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return sql.getMessage() + " (SQLSTATE " + sql.getSQLState() + ")";
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /** Idempotent: a second call (a restart, another replica) finds nothing to do. */
    public MigrateResult migrate() {
        moveLegacyHistory();
        MigrateResult result = flyway.migrate();
        if (result.migrationsExecuted > 0) {
            LOG.infof("Schema %s: %d migration(s) of matviews applied, now at version %s", schema.name(),
                    result.migrationsExecuted, result.targetSchemaVersion);
        }
        return result;
    }

    private void moveLegacyHistory() {
        String legacy = schema.qualify(LEGACY_HISTORY);
        try (Connection conn = dataSource.getConnection(); Statement st = conn.createStatement()) {
            conn.setAutoCommit(false);
            try {
                st.execute(AdvisoryLocks.transactionLock(MOVE_LOCK));
                boolean movable;
                // Earlier releases created it as this role: a table another role owns is the
                // application's, and not even read.
                try (ResultSet rs = st.executeQuery("SELECT to_regclass('" + schema.history() + "') IS NULL"
                        + " AND EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = to_regclass('" + legacy + "')"
                        + " AND pg_catalog.pg_get_userbyid(relowner) = current_user)")) {
                    rs.next();
                    movable = rs.getBoolean(1);
                }
                if (movable) {
                    long ours;
                    long others;
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE script IN (" + LEGACY_SCRIPTS
                            + ")), count(*) FILTER (WHERE script NOT IN (" + LEGACY_SCRIPTS + ")) FROM " + legacy)) {
                        rs.next();
                        ours = rs.getLong(1);
                        others = rs.getLong(2);
                    }
                    if (ours > 0 && others == 0) {
                        st.execute("ALTER TABLE " + legacy + " RENAME TO " + OwnSchema.HISTORY);
                        st.execute("ALTER TABLE " + schema.history() + " RENAME CONSTRAINT " + LEGACY_HISTORY
                                + "_pk TO " + OwnSchema.HISTORY + "_pk");
                        st.execute("ALTER INDEX IF EXISTS " + schema.qualify(LEGACY_HISTORY + "_s_idx")
                                + " RENAME TO " + OwnSchema.HISTORY + "_s_idx");
                        LOG.infof("Moved the history of %d migration(s) of an earlier matviews from %s to %s",
                                ours, legacy, schema.history());
                    } else if (ours > 0) {
                        LOG.warnf("%s holds migrations of an earlier matviews next to the application's; it is left"
                                + " alone, and matviews now keeps its own history in %s", legacy, schema.history());
                    }
                }
                conn.commit();
            } catch (SQLException e) {
                conn.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not check for the migration history of an earlier matviews: "
                    + e.getMessage(), e);
        }
    }
}
