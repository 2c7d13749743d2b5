package dev.matviews.db;

import dev.matviews.support.RestartablePostgres;
import io.vertx.mutiny.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The LISTEN connection against a database that is not there when the instance starts, and that
 * restarts later: its first connect is retried until the database answers (it was tried once and
 * never again), and a lost connection is re-established, each time announced to the channel's
 * owner so it can catch up.
 */
class ListenConnectionTest {

    @Test
    void connectsOnceTheDatabaseAnswersAndAgainAfterARestart() throws Exception {
        Vertx vertx = Vertx.vertx();
        try (RestartablePostgres pg = RestartablePostgres.start()) {
            pg.stop();
            PgConnectOptions options = PgConnectOptions.fromUri(pg.jdbcUrl().substring("jdbc:".length()))
                    .setUser("postgres").setPassword("postgres");
            ListenConnection listen = new ListenConnection(vertx, options);
            AtomicInteger listening = new AtomicInteger();
            List<String> received = new CopyOnWriteArrayList<>();
            listen.listen("listen_test", listening::incrementAndGet, received::add);
            listen.start();
            await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);
            assertFalse(listen.connected(), "no database yet");

            pg.startAgain();
            await().atMost(Duration.ofSeconds(20)).until(() -> listen.connected() && listening.get() == 1);
            notify(pg, "first");
            await().atMost(Duration.ofSeconds(5)).until(() -> received.contains("first"));

            pg.stop();
            pg.startAgain();
            await().atMost(Duration.ofSeconds(30)).until(() -> listen.connected() && listening.get() == 2);
            notify(pg, "second");
            await().atMost(Duration.ofSeconds(5)).until(() -> received.contains("second"));
            listen.close();
        } finally {
            vertx.closeAndAwait();
        }
    }

    private static void notify(RestartablePostgres pg, String payload) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", ""); Statement st = c.createStatement()) {
            st.execute("NOTIFY listen_test, '" + payload + "'");
        }
    }
}
