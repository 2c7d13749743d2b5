package dev.matviews.refresh;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A reactive pool of one connection: any refresh path that asked for a second connection, or
 * left a lock on the pooled session, would hang or leak here.
 */
@QuarkusTest
@TestProfile(PoolOfOneTest.OneConnection.class)
class PoolOfOneTest {

    public static class OneConnection implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.datasource.reactive.max-size", "1",
                    "matviews.refresh.max-concurrent", "1");
        }
    }

    @Test
    void manyRefreshesOfEveryOutcomeLeaveNoLockAndNoStuckConnection() {
        String ok = TestDb.uniqueName("ok");
        String noIndex = TestDb.uniqueName("noix");
        String failing = TestDb.uniqueName("fail");
        String gone = TestDb.uniqueName("gone");
        TestDb.run("CREATE MATERIALIZED VIEW public." + ok + " AS SELECT 1 AS id"
                + "; CREATE MATERIALIZED VIEW public." + noIndex + " AS SELECT 1 AS id"
                + "; CREATE TABLE public." + failing + "_t (x int); INSERT INTO public." + failing + "_t VALUES (1)"
                + "; CREATE MATERIALIZED VIEW public." + failing + " AS SELECT 1 / x AS q FROM public." + failing + "_t"
                + "; UPDATE public." + failing + "_t SET x = 0"
                + "; CREATE MATERIALIZED VIEW public." + gone + " AS SELECT 1 AS id");
        String okId = Api.register("public", ok, "standard");
        String noIndexId = Api.register("public", noIndex, "concurrent");
        String failingId = Api.register("public", failing, "standard");
        String goneId = Api.register("public", gone, "standard");
        TestDb.run("DROP MATERIALIZED VIEW public." + gone);

        for (int i = 0; i < 25; i++) {
            Api.refresh(okId).statusCode(200);
            Api.refresh(noIndexId).statusCode(409);
            Api.refresh(failingId).statusCode(500);
            Api.refresh(goneId).statusCode(404);
            assertEquals(0, TestDb.ourAdvisoryLocks(), "no lock survives a finished refresh");
        }
        Api.get(okId).statusCode(200).body("lastRefreshStatus", equalTo("success"));
    }

    @Test
    void aRefreshBeyondTheInstanceLimitIsRefusedWith503() {
        String slow = TestDb.uniqueName("slow");
        String other = TestDb.uniqueName("other");
        TestDb.run("CREATE MATERIALIZED VIEW public." + slow + " AS SELECT 1 AS id FROM pg_sleep(1) WITH NO DATA"
                + "; CREATE MATERIALIZED VIEW public." + other + " AS SELECT 1 AS id");
        String slowId = Api.register("public", slow, "standard");
        String otherId = Api.register("public", other, "standard");

        CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> Api.refresh(slowId).extract().statusCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(slow) == 1);
        Api.refresh(otherId).statusCode(503)
                .header("Retry-After", "1")
                .body("type", equalTo("urn:matviews:problem:refresh-capacity"));
        assertEquals(200, first.join());
        Api.refresh(otherId).statusCode(200);
        assertEquals(0, TestDb.ourAdvisoryLocks());
    }
}
