package dev.matviews;

import dev.matviews.support.LivedInDatabase;
import dev.matviews.support.PackagedApp;
import dev.matviews.support.PgBouncer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged service as deployed behind Debian's PgBouncer with its default settings: in session
 * mode it becomes ready, refreshes, and logs no error; in transaction mode, where session advisory
 * locks cannot hold, it refuses to start and says why.
 */
@EnabledIf(value = "dev.matviews.support.PgBouncer#usable", disabledReason = PgBouncer.MISSING)
class PgBouncerIT {

    private static EmbeddedPostgres server;
    private static String direct;

    @BeforeAll
    static void database() throws Exception {
        server = EmbeddedPostgres.builder().start();
        direct = "jdbc:postgresql://localhost:" + server.getPort() + "/postgres";
        new LivedInDatabase().prepare(direct, LivedInDatabase.SUPERUSER);
        try (Connection c = DriverManager.getConnection(direct, LivedInDatabase.SUPERUSER, "");
             Statement st = c.createStatement()) {
            st.execute("CREATE MATERIALIZED VIEW public.bounced AS SELECT g AS id FROM generate_series(1, 100) g;"
                    + " CREATE UNIQUE INDEX ON public.bounced (id); ALTER MATERIALIZED VIEW public.bounced OWNER TO "
                    + LivedInDatabase.ROLE);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static PgBouncer bouncer(String mode) throws Exception {
        return PgBouncer.start(server.getPort(), "postgres", mode, Map.of(LivedInDatabase.ROLE, LivedInDatabase.ROLE),
                40, Path.of("target", "pgbouncer-it-" + mode + ".log"));
    }

    @Test
    void inSessionModeTheServiceBecomesReadyRefreshesAndLogsNoError() throws Exception {
        try (PgBouncer bouncer = bouncer("session");
             PackagedApp app = PackagedApp.start(bouncer.jdbcUrl("postgres"), LivedInDatabase.ROLE, LivedInDatabase.ROLE,
                     Path.of("target", "pgbouncer-it-session-app.log"), Map.of())) {
            app.awaitStarted();
            await().atMost(Duration.ofSeconds(30)).until(() -> app.readiness() == 200);
            String id = app.register("bounced", "concurrent");
            HttpResponse<String> refreshed = app.callNow("POST", "/api/admin/matviews/" + id + "/refresh", null);
            assertEquals(200, refreshed.statusCode(), refreshed.body());
            assertEquals("success", PackagedApp.field(refreshed.body(), "lastRefreshStatus"));
            app.stop(Duration.ofSeconds(30));
            String log = app.log();
            assertFalse(log.contains("unsupported startup parameter"), log);
            assertFalse(log.contains("ERROR"), log);
        }
    }

    @Test
    void inTransactionModeTheStartIsRefusedWithTheReason() throws Exception {
        try (PgBouncer bouncer = bouncer("transaction");
             PackagedApp app = PackagedApp.start(bouncer.jdbcUrl("postgres"), LivedInDatabase.ROLE, LivedInDatabase.ROLE,
                     Path.of("target", "pgbouncer-it-transaction-app.log"), Map.of())) {
            assertTrue(app.process().waitFor(90, TimeUnit.SECONDS), "exits:\n" + app.log());
            assertNotEquals(0, app.process().exitValue());
            assertTrue(app.log().contains("pool_mode = session"), app.log());
            assertTrue(app.log().contains("transaction or statement pooling"), app.log());
        }
    }
}
