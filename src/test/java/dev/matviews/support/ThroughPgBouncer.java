package dev.matviews.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The service on a PostgreSQL server of its own, prepared like every other test's (a lived-in
 * database, the service as a plain role), reached only through a real PgBouncer in session mode.
 * The superuser's test connections go to the server directly ({@code test.superuser-jdbc-url}).
 */
public class ThroughPgBouncer implements QuarkusTestResourceLifecycleManager {

    /** For every profile that runs tests through PgBouncer. */
    public static class SessionMode implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(ThroughPgBouncer.class));
        }
    }

    private EmbeddedPostgres server;
    private PgBouncer bouncer;

    @Override
    public Map<String, String> start() {
        try {
            server = EmbeddedPostgres.builder().start();
            String direct = "jdbc:postgresql://localhost:" + server.getPort() + "/postgres";
            var login = new LivedInDatabase().prepare(direct, LivedInDatabase.SUPERUSER);
            // Session mode: each client connection holds a server connection for its life. The
            // pool must fit the service's (20), its LISTEN and Flyway connections and the tests'.
            bouncer = PgBouncer.start(server.getPort(), "postgres", "session", Map.of(login.user(), login.password()),
                    60, Path.of("target", "pgbouncer-session-" + System.nanoTime() + ".log"));
            String url = bouncer.jdbcUrl("postgres");
            return Map.of("quarkus.datasource.jdbc.url", url,
                    "quarkus.datasource.reactive.url", url.substring("jdbc:".length()),
                    "quarkus.datasource.username", login.user(),
                    "quarkus.datasource.password", login.password(),
                    "test.superuser-jdbc-url", direct);
        } catch (Exception e) {
            throw new IllegalStateException("could not start PostgreSQL behind PgBouncer: " + e.getMessage(), e);
        }
    }

    @Override
    public void stop() {
        if (bouncer != null) {
            bouncer.close();
        }
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException ignored) {
            // its directory is temporary
        }
    }
}
