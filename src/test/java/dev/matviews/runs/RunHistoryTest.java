package dev.matviews.runs;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every refresh attempt leaves a run; the history is readable, filterable and paginated. */
@QuarkusTest
class RunHistoryTest {

    private static final String RUNS = "/api/admin/matview-runs/";

    private static ValidatableResponse history(String id, String query) {
        return given().get(Api.BASE + "/" + id + "/runs" + query).then();
    }

    private static String matview(String sql) {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS " + sql);
        return mv;
    }

    @Test
    void aSuccessfulRefreshIsARunAndTheRegistrationFollowsIt() {
        String mv = matview("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        String runId = Api.refresh(id).statusCode(200).body("runId", notNullValue()).extract().path("runId");

        given().get(RUNS + runId).then().statusCode(200)
                .body("id", equalTo(runId))
                .body("registrationId", equalTo(id))
                .body("schemaName", equalTo("public"))
                .body("viewName", equalTo(mv))
                .body("refreshMode", equalTo("standard"))
                .body("trigger", equalTo("manual"))
                .body("status", equalTo("success"))
                .body("instanceId", notNullValue())
                .body("backendPid", notNullValue())
                .body("startedAt", notNullValue())
                .body("finishedAt", notNullValue())
                .body("durationMs", greaterThanOrEqualTo(0))
                .body("error", nullValue())
                .body("sqlState", nullValue());
        String finishedAt = given().get(RUNS + runId).then().extract().path("finishedAt");
        Api.get(id).body("lastSuccessAt", equalTo(finishedAt))
                .body("lastRefreshAt", equalTo(finishedAt))
                .body("currentRunId", nullValue());
    }

    @Test
    void failuresAreRunsWithTheirSqlstateAndLosingTheLockIsNot() {
        String t = TestDb.uniqueName("t");
        TestDb.run("CREATE TABLE public." + t + " (x int); INSERT INTO public." + t + " VALUES (1)");
        String mv = matview("SELECT 1 / x AS q FROM public." + t);
        TestDb.run("UPDATE public." + t + " SET x = 0");
        String id = Api.register("public", mv, "concurrent");

        // refused before it could start, and recorded: the problem names the run that recorded it
        String refusedRun = Api.refresh(id).statusCode(409).body("type", containsString("unique-index-required"))
                .body("runId", notNullValue()).extract().path("runId");
        TestDb.run("CREATE UNIQUE INDEX ON public." + mv + " (q)");
        String failedRun = Api.refresh(id).statusCode(500).body("runId", notNullValue()).extract().path("runId");
        try (TestDb other = TestDb.open()) {
            other.lockView("public", mv);
            Api.refresh(id).statusCode(409).body("type", containsString("refresh-in-progress"));
            other.unlockView("public", mv);
        }

        history(id, "").statusCode(200)
                .body("count", equalTo(2))
                .body("items[0].id", equalTo(failedRun))
                .body("items[0].status", equalTo("error"))
                .body("items[0].sqlState", equalTo("22012"))
                .body("items[0].error", containsString("division by zero"))
                .body("items[1].id", equalTo(refusedRun))
                .body("items[1].status", equalTo("error"))
                .body("items[1].error", containsString("needs a unique index"));
        Api.get(id).body("lastRefreshStatus", equalTo("error")).body("lastSuccessAt", nullValue());
    }

    @Test
    void aRefreshInProgressShowsItsRunningRun() {
        String mv = matview("SELECT 1 AS id FROM pg_sleep(1) WITH NO DATA");
        String id = Api.register("public", mv, "standard");
        CompletableFuture<String> refresh = CompletableFuture.supplyAsync(() -> Api.refresh(id).extract().path("runId"));

        await().atMost(Duration.ofSeconds(10)).until(() -> Api.get(id).extract().path("currentRunId") != null);
        String running = Api.get(id).extract().path("currentRunId");
        given().get(RUNS + running).then().body("status", equalTo("running")).body("finishedAt", nullValue());
        history(id, "?status=running").body("count", equalTo(1)).body("items[0].id", equalTo(running));

        assertEquals(running, refresh.join());
        given().get(RUNS + running).then().body("status", equalTo("success"));
        Api.get(id).body("currentRunId", nullValue());
    }

    @Test
    void historyIsNewestFirstFilteredAndPaginatedByCursor() {
        String mv = matview("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        for (int i = 0; i < 5; i++) {
            Api.refresh(id).statusCode(200);
        }
        List<String> all = history(id, "?limit=200").extract().path("items.id");
        assertEquals(5, all.size());

        ValidatableResponse first = history(id, "?limit=2").body("count", equalTo(2)).body("nextCursor", notNullValue());
        String cursor = first.extract().path("nextCursor");
        ValidatableResponse second = history(id, "?limit=2&cursor=" + cursor).body("count", equalTo(2));
        String last = second.extract().path("nextCursor");
        ValidatableResponse third = history(id, "?limit=2&cursor=" + last).body("count", equalTo(1))
                .body("nextCursor", nullValue());
        List<String> paged = new java.util.ArrayList<>(first.extract().<List<String>>path("items.id"));
        paged.addAll(second.extract().path("items.id"));
        paged.addAll(third.extract().path("items.id"));
        assertEquals(all, paged);

        List<String> started = history(id, "").extract().path("items.startedAt");
        assertEquals(started.stream().sorted(java.util.Comparator.reverseOrder()).toList(), started);
        history(id, "?status=error").body("count", equalTo(0));
        history(id, "?status=success").body("count", equalTo(5));
    }

    @Test
    void badQueriesAre400AndUnknownIdsAre404() {
        String id = Api.register("public", matview("SELECT 1 AS id"), "standard");
        history(id, "?status=done").statusCode(400).contentType("application/problem+json");
        history(id, "?limit=0").statusCode(400);
        history(id, "?limit=201").statusCode(400);
        history(id, "?cursor=not-a-cursor").statusCode(400).body("detail", containsString("cursor"));
        history(id, "").statusCode(200).body("count", equalTo(0)).body("items.size()", equalTo(0));
        history(UUID.randomUUID().toString(), "").statusCode(404).body("type", containsString("registration-not-found"));
        given().get(RUNS + UUID.randomUUID()).then().statusCode(404).body("type", containsString("run-not-found"));
        given().get(RUNS + "nope").then().statusCode(400);
    }

    @Test
    void historyOutlivesTheRegistration() {
        String id = Api.register("public", matview("SELECT 1 AS id"), "standard");
        String runId = Api.refresh(id).statusCode(200).extract().path("runId");
        given().delete(Api.BASE + "/" + id).then().statusCode(204);
        given().get(RUNS + runId).then().statusCode(200).body("status", equalTo("success"));
        history(id, "").statusCode(200).body("count", equalTo(1));
    }
}
