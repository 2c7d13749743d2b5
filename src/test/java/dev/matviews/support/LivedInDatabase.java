package dev.matviews.support;

import dev.matviews.devdb.EmbeddedPostgresSetup;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * Makes every test database one that an application already uses (lived-in/app.sql), gives the
 * service the rights README's script grants (deploy/grants.sql) plus some per view
 * (lived-in/service.sql), and has the service connect as that plain role: no superuser, no
 * CREATEDB, no CREATEROLE, with the application's schema first on its search_path.
 */
public class LivedInDatabase implements EmbeddedPostgresSetup {

    public static final String ROLE = "matviews_svc";
    public static final String SUPERUSER = "postgres";

    /**
     * Only the service's plain role, with the rights deploy/grants.sql gives it on public: for
     * databases prepared otherwise (an earlier release, AllYourBase).
     */
    static Login plainServiceRole(String jdbcUrl) throws SQLException {
        try (Connection conn = DriverManager.getConnection(jdbcUrl, SUPERUSER, "");
             Statement st = conn.createStatement()) {
            st.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + ROLE + "' NOSUPERUSER NOCREATEDB NOCREATEROLE");
            st.execute(Scripts.psql("deploy/grants.sql", Map.of("role", ROLE, "schema", "public",
                    "DBNAME", conn.getCatalog())));
        }
        return new Login(ROLE, ROLE);
    }

    @Override
    public Login prepare(String jdbcUrl, String superuser) throws SQLException {
        try (Connection conn = DriverManager.getConnection(jdbcUrl, superuser, "");
             Statement st = conn.createStatement()) {
            st.execute(Scripts.read("lived-in/app.sql"));
            st.execute(Scripts.psql("deploy/grants.sql", Map.of("role", ROLE, "schema", "public",
                    "DBNAME", conn.getCatalog())));
            st.execute(Scripts.read("lived-in/service.sql"));
        }
        return new Login(ROLE, ROLE);
    }
}
