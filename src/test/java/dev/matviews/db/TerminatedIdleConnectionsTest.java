package dev.matviews.db;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backends terminated while their connections sit idle in the pool (a failover, a DBA's
 * pg_terminate_backend, an idle_session_timeout) cost no request an error: nothing was sent on
 * them, so the request gets another connection.
 */
@QuarkusTest
class TerminatedIdleConnectionsTest {

    @Test
    void requestsAfterIdleBackendsWereTerminatedSucceed() throws Exception {
        String view = TestDb.uniqueName("idlekill");
        TestDb.run("CREATE MATERIALIZED VIEW public." + view + " AS SELECT 1 AS id");
        String id = Api.register("public", view, "standard");
        for (int round = 0; round < 5; round++) {
            // Fill the pool with several idle connections: concurrent requests each take one.
            java.util.List<java.util.concurrent.CompletableFuture<Integer>> parallel = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                parallel.add(java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> given().get(Api.BASE).then().extract().statusCode()));
            }
            for (var p : parallel) {
                assertEquals(200, p.get());
            }
            long killed;
            try (TestDb su = TestDb.openAsSuperuser()) {
                // the service's pooled connections (not this test's JDBC sessions, not its LISTEN session)
                killed = su.queryLong("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name <> 'PostgreSQL JDBC Driver' AND backend_type = 'client backend'"
                        + " AND state = 'idle' AND query NOT ILIKE 'LISTEN%' AND pid <> pg_backend_pid()) t");
            }
            assertTrue(killed > 0, "idle pooled backends were terminated");
            // no pause: the pool may not have seen the close yet
            for (int i = 0; i < 8; i++) {
                Api.refresh(id).statusCode(200);
                given().get(Api.BASE).then().statusCode(200);
            }
        }
    }
}
