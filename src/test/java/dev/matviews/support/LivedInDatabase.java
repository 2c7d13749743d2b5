package dev.matviews.support;

import dev.matviews.devdb.EmbeddedPostgresSetup;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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

    @Override
    public Login prepare(String jdbcUrl, String superuser) throws SQLException {
        try (Connection conn = DriverManager.getConnection(jdbcUrl, superuser, "");
             Statement st = conn.createStatement()) {
            st.execute(resource("lived-in/app.sql"));
            st.execute(psql(resource("deploy/grants.sql"), Map.of("role", ROLE, "schema", "public",
                    "DBNAME", conn.getCatalog())));
            st.execute(resource("lived-in/service.sql"));
        }
        return new Login(ROLE, ROLE);
    }

    /** psql's variable interpolation, for the scripts users run with psql -v. */
    static String psql(String script, Map<String, String> variables) {
        for (var v : variables.entrySet()) {
            script = script.replace(":\"" + v.getKey() + "\"", '"' + v.getValue().replace("\"", "\"\"") + '"')
                    .replace(":'" + v.getKey() + "'", "'" + v.getValue().replace("'", "''") + "'");
        }
        return script;
    }

    static String resource(String name) {
        try (InputStream in = LivedInDatabase.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("no resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
