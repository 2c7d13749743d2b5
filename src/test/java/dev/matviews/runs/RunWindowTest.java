package dev.matviews.runs;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /api/admin/matview-runs: the runs of every view that overlap a window, as the timeline draws them. */
@QuarkusTest
class RunWindowTest {

    private static final String PATH = "/api/admin/matview-runs";

    private static List<Map<String, Object>> runsOf(JsonPath window, String schema) {
        List<Map<String, Object>> items = window.getList("items");
        return items.stream().filter(r -> schema.equals(r.get("schemaName"))).toList();
    }

    @Test
    void theWindowHoldsEveryRunThatOverlapsItCascadesAndRunningOnesIncluded() {
        String schema = TestDb.uniqueName("win");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION matviews_svc");
        TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".a AS SELECT 1 AS id;"
                + " CREATE MATERIALIZED VIEW " + schema + ".b AS SELECT id FROM " + schema + ".a;"
                + " CREATE MATERIALIZED VIEW " + schema + ".slow AS SELECT 1 AS id FROM pg_sleep(2) WITH NO DATA");
        String a = Api.register(schema, "a", "standard");
        String b = Api.register(schema, "b", "standard");
        String slow = Api.register(schema, "slow", "standard");
        OffsetDateTime before = OffsetDateTime.now(ZoneOffset.UTC).minusSeconds(1);
        Api.refresh(a).statusCode(200);
        given().post(Api.BASE + "/" + a + "/refresh?cascade=downstream").then().statusCode(200);
        given().post(Api.BASE + "/" + slow + "/refresh?async=true").then().statusCode(202);

        JsonPath window = given().get(PATH).then().statusCode(200).extract().jsonPath();
        List<Map<String, Object>> mine = runsOf(window, schema);
        assertEquals(4, mine.size(), mine.toString());
        assertEquals(List.of("a", "a", "b", "slow"), mine.stream().map(r -> r.get("viewName")).toList(),
                "oldest start first");
        assertEquals(null, mine.get(0).get("cascadeId"));
        assertEquals(mine.get(1).get("cascadeId"), mine.get(2).get("cascadeId"), "a cascade's runs share its id");
        assertTrue(mine.get(1).get("cascadeId") != null);
        assertEquals("running", mine.get(3).get("status"), "a running run is in the window");
        assertFalse(window.getBoolean("truncated"));

        // a window that ends before they started holds none of them; one that starts after the quick ones ended
        // holds only the running one
        JsonPath earlier = given().queryParam("from", before.minusHours(1).toString()).queryParam("to", before.toString())
                .get(PATH).then().statusCode(200).extract().jsonPath();
        assertEquals(List.of(), runsOf(earlier, schema));
        OffsetDateTime later = OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(1);
        JsonPath after = given().queryParam("from", later.toString()).queryParam("to", later.plusMinutes(1).toString())
                .get(PATH).then().statusCode(200).extract().jsonPath();
        assertEquals(List.of("slow"), runsOf(after, schema).stream().map(r -> r.get("viewName")).toList());
        await().atMost(Duration.ofSeconds(10)).until(() -> !"running".equals(Api.get(slow).extract().path("lastRefreshStatus"))
                && Api.get(slow).extract().path("currentRunId") == null);

        // limit: the first by start, and said so
        JsonPath one = given().queryParam("limit", "1").queryParam("from", before.toString()).get(PATH).then()
                .statusCode(200).extract().jsonPath();
        assertEquals(1, one.getList("items").size());
        assertTrue(one.getBoolean("truncated"));
    }

    @Test
    void aBadWindowIsAProblemNamingWhatIsWrong() {
        String now = OffsetDateTime.now(ZoneOffset.UTC).toString();
        String[][] bad = {
                {"from", "yesterday", "from must be an ISO-8601 instant"},
                {"to", "2026-12-04T18:00:00", "to must be an ISO-8601 instant"},
                {"limit", "0", "limit must be between 1 and 10000"},
                {"limit", "10001", "limit must be between 1 and 10000"},
        };
        for (String[] b : bad) {
            given().queryParam(b[0], b[1]).get(PATH).then().statusCode(400).contentType("application/problem+json")
                    .body("detail", containsString(b[2]));
        }
        given().queryParam("from", now).queryParam("to", now).get(PATH).then().statusCode(400)
                .body("detail", containsString("from must be before to"));
        given().queryParam("from", OffsetDateTime.now(ZoneOffset.UTC).minusDays(8).toString()).get(PATH).then()
                .statusCode(400).body("detail", containsString("at most 7 days"));
    }
}
