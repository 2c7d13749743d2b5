package dev.matviews.refresh;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Refresh-now against a real PostgreSQL, through the HTTP API a client uses. */
@QuarkusTest
class RefreshTest {

    private static final String PROBLEM = "application/problem+json";

    @TestHTTPResource("/")
    URL baseUrl;

    @AfterEach
    void noLockOfOursIsLeftBehind() {
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.ourAdvisoryLocks() == 0);
    }

    private static String table(String name) {
        TestDb.run("CREATE TABLE public." + name + " (id int PRIMARY KEY, label text)");
        return name;
    }

    @Test
    void standardRefreshMakesNewRowsVisibleAndAnswersWithTheStoredOutcome() {
        String t = table(TestDb.uniqueName("t"));
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT id, label FROM public." + t
                + "; INSERT INTO public." + t + " VALUES (1, 'one'), (2, 'two')");
        String id = Api.register("public", mv, "standard");
        assertEquals(0, TestDb.count("SELECT count(*) FROM public." + mv));

        int durationMs = Api.refresh(id).statusCode(200).contentType(ContentType.JSON)
                .body("registration.id", equalTo(id))
                .body("registration.lastRefreshStatus", equalTo("success"))
                .body("registration.lastRefreshAt", notNullValue())
                .body("registration.lastRefreshError", nullValue())
                .extract().path("durationMs");

        assertEquals(2, TestDb.count("SELECT count(*) FROM public." + mv));
        Api.get(id).statusCode(200)
                .body("lastRefreshStatus", equalTo("success"))
                .body("lastRefreshDurationMs", equalTo(durationMs));
    }

    @Test
    void concurrentRefreshShowsANewRowOnlyAfterTheNextRefresh() {
        String t = table(TestDb.uniqueName("t"));
        String mv = TestDb.uniqueName("mv");
        TestDb.run("INSERT INTO public." + t + " VALUES (1, 'one')"
                + "; CREATE MATERIALIZED VIEW public." + mv + " AS SELECT id, label FROM public." + t
                + "; CREATE UNIQUE INDEX ON public." + mv + " (id)");
        String id = Api.register("public", mv, "concurrent");

        Api.refresh(id).statusCode(200).body("registration.lastRefreshStatus", equalTo("success"));
        assertEquals(1, TestDb.count("SELECT count(*) FROM public." + mv));
        TestDb.run("INSERT INTO public." + t + " VALUES (2, 'two')");
        assertEquals(1, TestDb.count("SELECT count(*) FROM public." + mv));
        Api.refresh(id).statusCode(200).body("registration.refreshMode", equalTo("concurrent"));
        assertEquals(2, TestDb.count("SELECT count(*) FROM public." + mv));
    }

    @Test
    void concurrentRefreshWithoutAUniqueIndexIsRefusedAndRecorded() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "concurrent");

        Api.refresh(id).statusCode(409).contentType(PROBLEM)
                .body("type", equalTo("urn:matviews:problem:unique-index-required"))
                .body("detail", containsString("it has no unique index"));
        Api.get(id).body("lastRefreshStatus", equalTo("error"))
                .body("lastRefreshError", containsString("needs a unique index"));
    }

    /**
     * Each kind of unique index PostgreSQL's is_usable_unique_index refuses. A deferrable unique
     * index cannot be created on a matview with SQL (constraints are not allowed there), so that
     * case flips pg_index.indimmediate as a superuser: the flag PostgreSQL itself reads.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "CREATE UNIQUE INDEX %1$s ON public.%2$s (id) WHERE id > 0 | partial (has a WHERE clause)",
            "CREATE UNIQUE INDEX %1$s ON public.%2$s ((id + 0)) | on an expression",
            "CREATE UNIQUE INDEX CONCURRENTLY %1$s ON public.%2$s (dup) | invalid",
            "CREATE UNIQUE INDEX %1$s ON public.%2$s (id); UPDATE pg_index SET indimmediate = false WHERE indexrelid = 'public.%1$s'::regclass | deferrable"
    })
    void unusableUniqueIndexesAreRefusedWithTheReason(String createIndex, String reason) {
        String mv = TestDb.uniqueName("mv");
        String index = mv + "_ix";
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT g AS id, 1 AS dup FROM generate_series(1, 3) g");
        try (TestDb db = TestDb.openAsSuperuser()) {
            // the CONCURRENTLY build fails on the duplicates and leaves an invalid index behind
            db.sqlStateOf(createIndex.formatted(index, mv));
        }
        assertEquals(1, TestDb.count("SELECT count(*) FROM pg_index WHERE indexrelid = 'public." + index + "'::regclass"));
        String id = Api.register("public", mv, "concurrent");

        Api.refresh(id).statusCode(409).contentType(PROBLEM)
                .body("type", equalTo("urn:matviews:problem:unique-index-required"))
                .body("detail", containsString(index + " is " + reason));
        Api.get(id).body("lastRefreshStatus", equalTo("error"))
                .body("lastRefreshError", containsString(index + " is " + reason));
    }

    @Test
    void concurrentRefreshOfAViewWithNoDataIsRefusedUntilAStandardRefresh() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id WITH NO DATA"
                + "; CREATE UNIQUE INDEX ON public." + mv + " (id)");
        String id = Api.register("public", mv, "concurrent");

        Api.refresh(id).statusCode(409).contentType(PROBLEM)
                .body("type", equalTo("urn:matviews:problem:not-populated"));
        Api.get(id).body("lastRefreshStatus", equalTo("error"))
                .body("lastRefreshError", containsString("not populated"));

        given().contentType(ContentType.JSON).body("{\"refreshMode\":\"standard\"}").put(Api.BASE + "/" + id)
                .then().statusCode(200);
        Api.refresh(id).statusCode(200);
        given().contentType(ContentType.JSON).body("{\"refreshMode\":\"concurrent\"}").put(Api.BASE + "/" + id)
                .then().statusCode(200);
        Api.refresh(id).statusCode(200).body("registration.lastRefreshStatus", equalTo("success"));
    }

    @Test
    void lockHeldByAnotherSessionGives409AndLeavesTheStoredOutcomeAlone() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        String refreshedAt = Api.refresh(id).statusCode(200).extract().path("registration.lastRefreshAt");

        try (TestDb other = TestDb.open()) {
            other.lockView("public", mv);
            Api.refresh(id).statusCode(409).contentType(PROBLEM)
                    .body("type", equalTo("urn:matviews:problem:refresh-in-progress"))
                    .body("code", equalTo(409))
                    .body("message", containsString("already in progress"));
            Api.get(id).body("lastRefreshStatus", equalTo("success"))
                    .body("lastRefreshAt", equalTo(refreshedAt))
                    .body("lastRefreshError", nullValue());
            assertEquals(1, TestDb.ourAdvisoryLocks(), "only the other session's lock is held");
            other.unlockView("public", mv);
        }
        Api.refresh(id).statusCode(200).body("registration.lastRefreshAt", not(equalTo(refreshedAt)));
    }

    @Test
    void aRefreshThatLosesTheRaceAnswers409AndTheWinnerRecordsSuccess() {
        String mv = TestDb.uniqueName("slow");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id FROM pg_sleep(1.5) WITH NO DATA");
        String id = Api.register("public", mv, "standard");

        CompletableFuture<Integer> winner = CompletableFuture.supplyAsync(() -> Api.refresh(id).extract().statusCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(mv) == 1);
        Api.refresh(id).statusCode(409).body("type", equalTo("urn:matviews:problem:refresh-in-progress"));
        Api.get(id).body("lastRefreshStatus", nullValue());

        assertEquals(200, winner.join());
        Api.get(id).body("lastRefreshStatus", equalTo("success")).body("lastRefreshError", nullValue());
    }

    @Test
    void aDroppedViewIsNotFoundAndTheErrorIsRecorded() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        TestDb.run("DROP MATERIALIZED VIEW public." + mv);

        Api.refresh(id).statusCode(404).contentType(PROBLEM)
                .body("type", equalTo("urn:matviews:problem:matview-gone"));
        Api.get(id).body("lastRefreshStatus", equalTo("error"))
                .body("lastRefreshError", equalTo("matview no longer exists"));
    }

    @Test
    void anUnknownIdIsNotFoundAndNothingIsRecorded() {
        long rows = TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes");
        Api.refresh(UUID.randomUUID().toString()).statusCode(404).contentType(PROBLEM)
                .body("type", equalTo("urn:matviews:problem:registration-not-found"));
        assertEquals(rows, TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes"));
    }

    @Test
    void aFailingRefreshIs500WithoutInternalsAndRecordsTheSqlstate() {
        String t = table(TestDb.uniqueName("t"));
        String mv = TestDb.uniqueName("mv");
        TestDb.run("INSERT INTO public." + t + " VALUES (1, 'one')"
                + "; CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 / id AS q FROM public." + t
                + "; UPDATE public." + t + " SET id = 0");
        String id = Api.register("public", mv, "standard");

        String body = Api.refresh(id).statusCode(500).contentType(PROBLEM)
                .body("type", equalTo("urn:matviews:problem:refresh-failed"))
                .body("sqlState", equalTo("22012"))
                .body("detail", containsString("division by zero"))
                .extract().asString();
        assertTrue(!body.contains("Exception") && !body.contains("dev.matviews") && !body.contains("\tat "), body);
        Api.get(id).body("lastRefreshStatus", equalTo("error"))
                .body("lastRefreshError", equalTo("division by zero (SQLSTATE 22012)"));
    }

    @Test
    void mixedCaseAndReservedWordViewsAreQuotedCorrectly() {
        String mv = "Order_" + TestDb.uniqueName("X");
        TestDb.run("CREATE MATERIALIZED VIEW public.\"" + mv + "\" AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        Api.refresh(id).statusCode(200).body("registration.viewName", equalTo(mv));
    }

    @Test
    void aClientThatDisconnectsCancelsTheRefreshOnTheServerAndTheOutcomeIsRecorded() throws Exception {
        String mv = TestDb.uniqueName("slow");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id FROM pg_sleep(30) WITH NO DATA");
        String id = Api.register("public", mv, "standard");

        long started = System.nanoTime();
        try (Socket socket = new Socket(baseUrl.getHost(), baseUrl.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + Api.BASE + "/" + id + "/refresh HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(mv) == 1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(mv) == 0);
        assertTrue(Duration.ofNanos(System.nanoTime() - started).toSeconds() < 25, "the REFRESH was cancelled, not finished");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> Api.get(id)
                .body("lastRefreshStatus", equalTo("error"))
                .body("lastRefreshError", containsString("57014"))
                .body("lastRefreshError", containsString("client went away")));
    }
}
