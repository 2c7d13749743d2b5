package dev.matviews.refresh;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/**
 * Draining as shutdown does it, inside a running instance: new refreshes are refused with a clear
 * 503 at once, and a refresh still running after the grace is cancelled, recorded and answered.
 * (FaultsIT does the same through SIGTERM on the packaged application.) Its own profile: the
 * instance stays draining afterwards.
 */
@QuarkusTest
@TestProfile(DrainTest.Draining.class)
class DrainTest {

    public static class Draining implements QuarkusTestProfile {
        @Override
        public java.util.Map<String, String> getConfigOverrides() {
            return java.util.Map.of("matviews.refresh.shutdown-grace", "500ms");
        }
    }

    @Inject
    RefreshAdmission refreshes;

    @Test
    void newRefreshesAreRefusedAndARefreshPastTheGraceIsCancelledRecordedAndAnswered() {
        String slow = TestDb.uniqueName("drain");
        TestDb.run("CREATE MATERIALIZED VIEW public." + slow + " AS SELECT 1 AS id FROM pg_sleep(60) WITH NO DATA");
        String quick = TestDb.uniqueName("drain");
        TestDb.run("CREATE MATERIALIZED VIEW public." + quick + " AS SELECT 1 AS id");
        String slowId = Api.register("public", slow, "standard");
        String quickId = Api.register("public", quick, "standard");
        CompletableFuture<io.restassured.response.Response> answer =
                CompletableFuture.supplyAsync(() -> given().post(Api.BASE + "/" + slowId + "/refresh"));
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(slow) == 1);

        refreshes.beginDrain(Duration.ofMillis(500));
        given().post(Api.BASE + "/" + quickId + "/refresh").then().statusCode(503).header("Retry-After", "1")
                .body("type", equalTo("urn:matviews:problem:shutting-down"))
                .body("detail", containsString("shutting down"));
        given().get("/q/health/ready").then().statusCode(503);

        io.restassured.response.Response cancelled = answer.join();
        cancelled.then().statusCode(409).body("type", equalTo("urn:matviews:problem:refresh-cancelled"))
                .body("detail", containsString("shut down"));
        given().get("/api/admin/matview-runs/" + cancelled.path("runId")).then().body("status", equalTo("cancelled"));
        await().atMost(Duration.ofSeconds(5)).until(() -> TestDb.ourAdvisoryLocks() == 0);
    }
}
