package dev.matviews.support;

import dev.matviews.devdb.EmbeddedPostgresSetup;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A database that AllYourBase used before matviews takes over: its own job queue and schedule
 * tables (allyourbase/ayb.sql), with rows, owned by the role the service connects as.
 */
final class AllYourBase {

    private AllYourBase() {
    }

    static EmbeddedPostgresSetup.Login install(String jdbcUrl) throws SQLException {
        String role = LivedInDatabase.plainServiceRole(jdbcUrl).user();
        try (Connection conn = DriverManager.getConnection(jdbcUrl, role, role); Statement st = conn.createStatement()) {
            st.execute(Scripts.read("allyourbase/ayb.sql"));
        }
        return new EmbeddedPostgresSetup.Login(role, role);
    }
}
