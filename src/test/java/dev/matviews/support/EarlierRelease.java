package dev.matviews.support;

import dev.matviews.devdb.EmbeddedPostgresSetup;
import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A database that matviews 0.1 installed and used: it migrated with Flyway's defaults (history
 * in public.flyway_schema_history, migrations 1 to 4), registered a view and refreshed it once.
 */
final class EarlierRelease {

    private EarlierRelease() {
    }

    static EmbeddedPostgresSetup.Login install(String jdbcUrl) throws SQLException {
        String role = LivedInDatabase.plainServiceRole(jdbcUrl).user();
        // What quarkus.flyway.migrate-at-start did in 0.1: Flyway's defaults, the first four migrations.
        Flyway.configure().dataSource(jdbcUrl, role, role).locations("classpath:db/migration").target("4")
                .load().migrate();
        try (Connection conn = DriverManager.getConnection(jdbcUrl, role, role); Statement st = conn.createStatement()) {
            st.execute("""
                    CREATE MATERIALIZED VIEW public.leaderboard AS SELECT g AS id FROM generate_series(1, 5) g;
                    CREATE UNIQUE INDEX ON public.leaderboard (id);
                    INSERT INTO public._ayb_matview_refreshes (id, view_name, refresh_mode, last_refresh_at,
                        last_refresh_duration_ms, last_refresh_status, last_success_at)
                    VALUES ('0a1a0000-0000-0000-0000-000000000001', 'leaderboard', 'concurrent',
                            '2026-10-01 12:00:00+00', 12, 'success', '2026-10-01 12:00:00+00');
                    """);
        }
        try (Connection conn = DriverManager.getConnection(jdbcUrl, LivedInDatabase.SUPERUSER, "");
             Statement st = conn.createStatement()) {
            // kept where the service's role cannot see it, to compare after the upgrade
            st.execute("CREATE SCHEMA earlier; CREATE TABLE earlier.history AS SELECT * FROM public.flyway_schema_history");
        }
        return new EmbeddedPostgresSetup.Login(role, role);
    }
}
