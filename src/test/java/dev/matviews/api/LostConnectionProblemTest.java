package dev.matviews.api;

import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The ways the PostgreSQL client reports a terminated backend, taken from the real client: each
 * is a 503 "try again", never a 500 (the fault suite met the last one as a 500).
 */
@QuarkusTest
class LostConnectionProblemTest {

    @Inject
    Pool pool;
    @Inject
    io.vertx.mutiny.core.Vertx vertx;
    @Inject
    dev.matviews.db.DatabaseConnectOptions connectOptions;

    private final ProblemMapper mapper = new ProblemMapper();

    @Test
    void aStatementOnAConnectionTheClientHasSeenCloseIsA503() {
        SqlConnection conn = pool.getConnection().await().atMost(Duration.ofSeconds(10));
        try {
            int pid = conn.query("SELECT pg_backend_pid()").execute().await().atMost(Duration.ofSeconds(10))
                    .iterator().next().getInteger(0);
            TestDb.runAsSuperuser("SELECT pg_terminate_backend(" + pid + ")");
            // The first statement after the kill meets the server's FATAL or the closed socket ...
            Throwable first = failure(conn);
            assertNotNull(mapper.databaseUnavailable(first), first.toString());
            // ... and once the client has seen the close, it refuses statements itself.
            await().atMost(Duration.ofSeconds(10)).until(() -> failure(conn).getMessage() != null
                    && failure(conn).getMessage().startsWith("Connection is not active now"));
            Throwable later = failure(conn);
            assertNotNull(mapper.databaseUnavailable(later), later.toString());
            Response response = mapper.unexpected(later);
            assertEquals(503, response.getStatus());
            assertEquals("urn:matviews:problem:database-unavailable", ((Problem) response.getEntity()).type());
        } finally {
            conn.close().await().atMost(Duration.ofSeconds(10));
        }
    }

    @Test
    void aConnectionResetByThePeerIsA503() throws Exception {
        pool.query("SELECT 1").execute().await().atMost(Duration.ofSeconds(10)); // the pool's options exist
        io.vertx.pgclient.PgConnectOptions options = connectOptions.copy();
        try (dev.matviews.support.WireCounter wire = new dev.matviews.support.WireCounter(options.getHost(), options.getPort())) {
            options.setHost("127.0.0.1").setPort(wire.port());
            Pool proxied = Pool.newInstance(io.vertx.pgclient.spi.PgDriver.INSTANCE.createPool(vertx.getDelegate(),
                    java.util.List.of(options), new io.vertx.sqlclient.PoolOptions().setMaxSize(1)));
            try {
                proxied.query("SELECT 1").execute().await().atMost(Duration.ofSeconds(10));
                // An RST rather than a close: the client fails the statement with the socket's own exception
                // (CI's run met it as the first failure after pg_terminate_backend, and it was a 500).
                wire.resetAtNextMessage();
                Throwable reset = failure(proxied);
                assertInstanceOf(java.net.SocketException.class, reset, "the real client's failure");
                Response response = mapper.unexpected(reset);
                assertEquals(503, response.getStatus(), reset.toString());
                assertEquals("urn:matviews:problem:database-unavailable", ((Problem) response.getEntity()).type());
            } finally {
                proxied.close().await().atMost(Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void aRefusedConnectToTheDatabaseIsA503AndOnlyTheDatabases() throws Exception {
        int closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        io.vertx.pgclient.PgConnectOptions nowhere = new io.vertx.pgclient.PgConnectOptions().setHost("localhost")
                .setPort(closed).setDatabase("postgres").setUser("nobody").setPassword("nothing");
        io.vertx.mutiny.sqlclient.Pool refused = io.vertx.mutiny.pgclient.PgPool.pool(vertx, nowhere,
                new io.vertx.sqlclient.PoolOptions().setMaxSize(1));
        try {
            Throwable connect = failure(refused);
            // the real client's failure to connect, to the database's address: the database is down
            assertNotNull(ProblemMapper.databaseUnavailable(connect, "localhost", closed), connect.toString());
            // the same failure to connect somewhere else (an identity provider, say) is not the database's
            assertNull(ProblemMapper.databaseUnavailable(connect, "localhost", closed + 1), connect.toString());
            assertNull(ProblemMapper.databaseUnavailable(connect, "db.example", closed), connect.toString());
        } finally {
            refused.closeAndAwait();
        }
    }

    private static Throwable failure(io.vertx.mutiny.sqlclient.Pool pool) {
        try {
            pool.query("SELECT 1").execute().await().atMost(Duration.ofSeconds(10));
            throw new AssertionError("a statement on a closed port succeeded");
        } catch (AssertionError e) {
            throw e;
        } catch (RuntimeException e) {
            return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        }
    }

    private static Throwable failure(SqlConnection conn) {
        try {
            conn.query("SELECT 1").execute().await().atMost(Duration.ofSeconds(10));
            throw new AssertionError("a statement on a terminated backend succeeded");
        } catch (AssertionError e) {
            throw e;
        } catch (RuntimeException e) {
            // Uni.await wraps what is not a RuntimeException (the client's NoStackTraceThrowable is not).
            return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        }
    }
}
