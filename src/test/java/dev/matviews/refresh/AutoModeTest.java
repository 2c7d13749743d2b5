package dev.matviews.refresh;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mode auto (issue 14): standard until the view is populated and has a unique index CONCURRENTLY
 * can use, concurrent from then on; each run records the mode it used and why. That the recorded
 * mode is the one PostgreSQL ran is shown by locks: a reader's open transaction holds ACCESS
 * SHARE, which a standard REFRESH (ACCESS EXCLUSIVE) waits for and CONCURRENTLY (EXCLUSIVE) does not.
 */
@QuarkusTest
class AutoModeTest {

    private static JsonPath run(String runId) {
        return given().get("/api/admin/matview-runs/" + runId).then().statusCode(200).extract().jsonPath();
    }

    @Test
    void aViewCreatedWithNoDataIsRefreshedInStandardModeOnceThenConcurrently() {
        String mv = TestDb.uniqueName("auto");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT g AS id FROM generate_series(1, 10) g WITH NO DATA;"
                + " CREATE UNIQUE INDEX " + mv + "_id ON public." + mv + " (id)");
        String id = Api.register("public", mv, "auto");
        Api.get(id).statusCode(200).body("refreshMode", equalTo("auto"));
        given().contentType(ContentType.JSON).body("{\"lockTimeoutMs\":1000}").put(Api.BASE + "/" + id)
                .then().statusCode(200);

        JsonPath first = run(Api.refresh(id).statusCode(200).extract().path("runId"));
        assertEquals("standard", first.getString("refreshMode"));
        assertTrue(first.getString("modeReason").contains("not populated"), first.getString("modeReason"));

        try (TestDb reader = TestDb.open()) {
            reader.exec("BEGIN; SELECT count(*) FROM public." + mv);
            JsonPath second = run(Api.refresh(id).statusCode(200).extract().path("runId"));
            assertEquals("concurrent", second.getString("refreshMode"));
            assertTrue(second.getString("modeReason").contains(mv + "_id"), second.getString("modeReason"));
            reader.exec("COMMIT");
        }
        Api.get(id).body("refreshMode", equalTo("auto")).body("lastRefreshStatus", equalTo("success"));
        given().delete(Api.BASE + "/" + id).then().statusCode(204);
    }

    @Test
    void withoutAUsableUniqueIndexAutoRefreshesInStandardModeAndSaysWhichIndexFailedWhy() {
        String mv = TestDb.uniqueName("auto");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT g AS id FROM generate_series(1, 10) g;"
                + " CREATE UNIQUE INDEX " + mv + "_part ON public." + mv + " (id) WHERE id > 5");
        String id = Api.register("public", mv, "auto");
        given().contentType(ContentType.JSON).body("{\"lockTimeoutMs\":300}").put(Api.BASE + "/" + id)
                .then().statusCode(200);

        JsonPath ran = run(Api.refresh(id).statusCode(200).extract().path("runId"));
        assertEquals("standard", ran.getString("refreshMode"));
        assertTrue(ran.getString("modeReason").contains(mv + "_part is partial"), ran.getString("modeReason"));

        // Standard really ran: behind a reader it waits for its ACCESS EXCLUSIVE lock and times out.
        try (TestDb reader = TestDb.open()) {
            reader.exec("BEGIN; SELECT count(*) FROM public." + mv);
            Api.refresh(id).statusCode(504).body("detail", containsString("lock_timeout"));
            reader.exec("COMMIT");
        }
        given().delete(Api.BASE + "/" + id).then().statusCode(204);
    }

    @Test
    void anExplicitModeIsRecordedAsRegisteredAndAutoIsAValidUpdate() {
        String mv = TestDb.uniqueName("auto");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        JsonPath ran = run(Api.refresh(id).statusCode(200).extract().path("runId"));
        assertEquals("standard", ran.getString("refreshMode"));
        assertEquals("registered as standard", ran.getString("modeReason"));

        given().contentType(ContentType.JSON).body("{\"refreshMode\":\"auto\"}").put(Api.BASE + "/" + id)
                .then().statusCode(200).body("refreshMode", equalTo("auto"));
        given().contentType(ContentType.JSON).body("{\"refreshMode\":\"sometimes\"}").put(Api.BASE + "/" + id)
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("auto"));
        given().delete(Api.BASE + "/" + id).then().statusCode(204);
    }
}
