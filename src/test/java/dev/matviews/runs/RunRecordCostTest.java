package dev.matviews.runs;

import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.ConfigProvider;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recording a run's end costs the same with a long history as with none. A deployment with a few
 * views and months of runs (the planner then estimates a third of a view's history for "a run
 * started after this one", and the service plans generically) had the registry trigger read the
 * whole history on every success record: 1.7 ms at 8,000 runs in bench/, growing with every run.
 *
 * <p>Its own schema, migrated like the service's, holds one view's history: what a real
 * deployment's statistics look like, which the shared test schema's hundreds of views do not.
 */
@QuarkusTest
class RunRecordCostTest {

    private static final int HISTORY = 20_000;

    private final String schema = "runcost_" + UUID.randomUUID().toString().substring(0, 8);
    private Connection conn;

    @BeforeEach
    void migrateAndFill() throws SQLException {
        var config = ConfigProvider.getConfig();
        String url = config.getValue("quarkus.datasource.jdbc.url", String.class);
        String user = config.getValue("quarkus.datasource.username", String.class);
        String password = config.getOptionalValue("quarkus.datasource.password", String.class).orElse("");
        // the service's role is a plain role that may not create schemas (as in a lived-in database)
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + user);
        conn = DriverManager.getConnection(url, user, password);
        Flyway.configure().dataSource(url, user, password).schemas(schema).defaultSchema(schema)
                .table("_matviews_schema_history").locations("classpath:db/migration").load().migrate();
        try (Statement st = conn.createStatement()) {
            st.execute("SET search_path TO " + schema);
            st.execute("CREATE MATERIALIZED VIEW v AS SELECT 1 AS id");
            st.execute("INSERT INTO _ayb_matview_refreshes (id, schema_name, view_name, refresh_mode)"
                    + " VALUES ('00000000-0000-0000-0000-00000000000a', '" + schema + "', 'v', 'standard')");
            // A minute's schedule for two weeks: finished runs, oldest first.
            st.execute("INSERT INTO _ayb_matview_refresh_runs (registration_id, schema_name, view_name, refresh_mode,"
                    + " trigger, status, instance_id, started_at, finished_at, duration_ms)"
                    + " SELECT '00000000-0000-0000-0000-00000000000a', '" + schema + "', 'v', 'standard', 'schedule',"
                    + " CASE WHEN g % 50 = 0 THEN 'error' ELSE 'success' END, 'earlier',"
                    + " now() - (" + HISTORY + " - g) * interval '1 minute' - interval '1 hour',"
                    + " now() - (" + HISTORY + " - g) * interval '1 minute' - interval '1 hour' + interval '3 ms', 3"
                    + " FROM generate_series(1, " + HISTORY + ") g");
            st.execute("ANALYZE _ayb_matview_refresh_runs");
            // as the service's sessions plan (application.properties)
            st.execute("SET plan_cache_mode = force_generic_plan");
        }
        conn.setAutoCommit(false);
    }

    @AfterEach
    void drop() throws SQLException {
        conn.rollback();
        conn.setAutoCommit(true);
        try (Statement st = conn.createStatement()) {
            st.execute("DROP SCHEMA " + schema + " CASCADE");
        }
        conn.close();
    }

    @Test
    void aRunsEndIsRecordedWithoutReadingTheHistory() throws SQLException {
        for (int i = 0; i < 8; i++) {
            try (Statement st = conn.createStatement()) {
                st.execute("INSERT INTO _ayb_matview_refresh_runs (id, registration_id, schema_name, view_name,"
                        + " refresh_mode, trigger, status, instance_id) VALUES ('00000000-0000-0000-0001-00000000000" + i
                        + "', '00000000-0000-0000-0000-00000000000a', '" + schema + "', 'v', 'standard', 'manual',"
                        + " 'running', 'now')");
                st.execute("UPDATE _ayb_matview_refresh_runs SET status = 'success', finished_at = clock_timestamp(),"
                        + " duration_ms = " + (10 + i) + " WHERE id = '00000000-0000-0000-0001-00000000000" + i + "'");
                // this transaction's reads of the runs table, the trigger's included
                try (ResultSet rs = st.executeQuery("SELECT seq_tup_read, coalesce(idx_tup_fetch, 0)"
                        + " FROM pg_stat_xact_user_tables WHERE relid = '_ayb_matview_refresh_runs'::regclass")) {
                    rs.next();
                    long scanned = rs.getLong(1) + rs.getLong(2);
                    assertTrue(scanned < 100, "record " + i + " read " + scanned + " rows of a " + HISTORY
                            + "-run history (sequentially " + rs.getLong(1) + ")");
                }
                try (ResultSet rs = st.executeQuery("SELECT last_refresh_status, last_refresh_duration_ms, current_run_id"
                        + " FROM _ayb_matview_refreshes")) {
                    rs.next();
                    assertEquals("success", rs.getString(1));
                    assertEquals(10 + i, rs.getInt(2), "the registry shows the run just recorded");
                    assertEquals(null, rs.getString(3));
                }
            }
            conn.commit();
        }
    }
}
