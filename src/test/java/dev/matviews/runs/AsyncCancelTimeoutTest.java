package dev.matviews.runs;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Asynchronous refreshes, cancelling through the API, timeouts, and a refreshing backend that dies. */
@QuarkusTest
class AsyncCancelTimeoutTest {

    private static final String RUNS = "/api/admin/matview-runs/";

    @AfterEach
    void noLockOfOursIsLeftBehind() {
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.ourAdvisoryLocks() == 0);
    }

    private static String slowView(double seconds) {
        String mv = TestDb.uniqueName("slow");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id FROM pg_sleep(" + seconds + ") WITH NO DATA");
        return mv;
    }

    private static ValidatableResponse run(String runId) {
        return given().get(RUNS + runId).then().statusCode(200);
    }

    private static void awaitStatus(String runId, String status) {
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> run(runId).body("status", equalTo(status)));
    }

    @Test
    void preferRespondAsyncAnswers202AtOnceAndTheRefreshCompletes() {
        String mv = slowView(1);
        String id = Api.register("public", mv, "standard");
        long start = System.nanoTime();
        ValidatableResponse accepted = given().header("Prefer", "respond-async").post(Api.BASE + "/" + id + "/refresh")
                .then().statusCode(202)
                .header("Preference-Applied", "respond-async")
                .body("status", equalTo("running"))
                .body("trigger", equalTo("async"));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 900, "answered before the refresh ended");
        String runId = accepted.extract().path("id");
        accepted.header("Location", endsWith(RUNS + runId));

        awaitStatus(runId, "success");
        Api.get(id).body("lastRefreshStatus", equalTo("success")).body("currentRunId", nullValue());
    }

    @Test
    void asyncQueryParameterWorksTooAndErrorsStillComeAtOnce() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "concurrent");
        given().post(Api.BASE + "/" + id + "/refresh?async=true").then().statusCode(409)
                .body("type", containsString("unique-index-required"));
        given().post(Api.BASE + "/" + UUID.randomUUID() + "/refresh?async=true").then().statusCode(404);
        given().contentType(ContentType.JSON).body("{\"refreshMode\":\"standard\"}").put(Api.BASE + "/" + id)
                .then().statusCode(200);
        String runId = given().post(Api.BASE + "/" + id + "/refresh?async=true").then().statusCode(202)
                .extract().path("id");
        awaitStatus(runId, "success");
    }

    @Test
    void cancellingARunningRefreshStopsItOnTheServerAndRecordsIt() {
        String mv = slowView(30);
        String id = Api.register("public", mv, "standard");
        String runId = given().post(Api.BASE + "/" + id + "/refresh?async=true").then().statusCode(202)
                .extract().path("id");
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(mv) == 1);

        given().post(RUNS + runId + "/cancel").then().statusCode(202)
                .body("id", equalTo(runId))
                .body("cancelRequestedAt", notNullValue());
        awaitStatus(runId, "cancelled");
        run(runId).body("sqlState", equalTo("57014")).body("finishedAt", notNullValue());
        assertEquals(0, TestDb.runningRefreshesOf(mv));
        Api.get(id).body("lastRefreshStatus", equalTo("error")).body("currentRunId", nullValue());

        given().post(RUNS + runId + "/cancel").then().statusCode(409)
                .contentType("application/problem+json").body("type", containsString("run-finished"));
        given().post(RUNS + UUID.randomUUID() + "/cancel").then().statusCode(404);
    }

    @Test
    void aSynchronousCallerOfACancelledRunIsAnswered409() {
        String mv = slowView(30);
        String id = Api.register("public", mv, "standard");
        CompletableFuture<ValidatableResponse> caller = CompletableFuture.supplyAsync(() -> Api.refresh(id));
        await().atMost(Duration.ofSeconds(10)).until(() -> Api.get(id).extract().path("currentRunId") != null);
        String runId = Api.get(id).extract().path("currentRunId");
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(mv) == 1);
        given().post(RUNS + runId + "/cancel").then().statusCode(202);
        caller.join().statusCode(409).body("type", containsString("refresh-cancelled")).body("runId", equalTo(runId));
    }

    @Test
    void aStatementTimeoutEndsTheRunAsTimeout() {
        String mv = slowView(5);
        String id = given().contentType(ContentType.JSON)
                .body("{\"viewName\":\"" + mv + "\",\"statementTimeoutMs\":300}").post(Api.BASE)
                .then().statusCode(201).body("statementTimeoutMs", equalTo(300)).extract().path("id");

        String runId = Api.refresh(id).statusCode(504).contentType("application/problem+json")
                .body("type", containsString("refresh-timeout"))
                .extract().path("runId");
        run(runId).body("status", equalTo("timeout")).body("sqlState", equalTo("57014"))
                .body("error", containsString("statement_timeout of 300 ms"));
        Api.get(id).body("lastRefreshStatus", equalTo("error"));
    }

    @Test
    void aLockTimeoutEndsTheRunAsTimeoutWhileReadersHoldTheView() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        given().contentType(ContentType.JSON).body("{\"lockTimeoutMs\":200}").put(Api.BASE + "/" + id)
                .then().statusCode(200).body("lockTimeoutMs", equalTo(200)).body("refreshMode", equalTo("standard"));

        try (TestDb reader = TestDb.open()) {
            reader.exec("BEGIN; SELECT * FROM public." + mv);
            String runId = Api.refresh(id).statusCode(504).extract().path("runId");
            run(runId).body("status", equalTo("timeout")).body("sqlState", equalTo("55P03"));
            reader.exec("COMMIT");
        }
        given().contentType(ContentType.JSON).body("{\"lockTimeoutMs\":null}").put(Api.BASE + "/" + id)
                .then().statusCode(200).body("lockTimeoutMs", nullValue());
        Api.refresh(id).statusCode(200);
    }

    @Test
    void timeoutsAreValidated() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        given().contentType(ContentType.JSON).body("{\"viewName\":\"" + mv + "\",\"lockTimeoutMs\":-1}").post(Api.BASE)
                .then().statusCode(400).body("detail", containsString("lockTimeoutMs"));
        String id = Api.register("public", mv, "standard");
        given().contentType(ContentType.JSON).body("{\"statementTimeoutMs\":\"soon\"}").put(Api.BASE + "/" + id)
                .then().statusCode(400).body("detail", containsString("statementTimeoutMs"));
        given().contentType(ContentType.JSON).body("{\"statementTimeoutMs\":86400001}").put(Api.BASE + "/" + id)
                .then().statusCode(400);
        Api.get(id).body("statementTimeoutMs", nullValue());
    }

    @Test
    void aTerminatedRefreshingBackendGivesAFinishedErrorRunAFreeLockAndAWorkingNextRefresh() {
        String mv = slowView(30);
        String id = Api.register("public", mv, "standard");
        CompletableFuture<ValidatableResponse> caller = CompletableFuture.supplyAsync(() -> Api.refresh(id));
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(mv) == 1);
        String runId = Api.get(id).extract().path("currentRunId");
        int pid = run(runId).extract().path("backendPid");

        TestDb.run("SELECT pg_terminate_backend(" + pid + ")");
        caller.join().statusCode(500).body("type", containsString("refresh-failed"));
        run(runId).body("status", equalTo("error")).body("finishedAt", notNullValue());
        Api.get(id).body("lastRefreshStatus", equalTo("error")).body("currentRunId", nullValue());
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.ourAdvisoryLocks() == 0);

        TestDb.run("DROP MATERIALIZED VIEW public." + mv + "; CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        Api.refresh(id).statusCode(200).body("registration.lastRefreshStatus", equalTo("success"));
    }
}
