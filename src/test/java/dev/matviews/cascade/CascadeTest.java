package dev.matviews.cascade;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cascading refreshes on a real database (issue 14). Views on views, a diamond, a view read
 * through a plain view, one through an unregistered matview, and one beside the rest:
 *
 * <pre>
 *   t -> a -> b --> d -> pv -> e        t -> f
 *          \-> c -/
 *           \-> u (unregistered) -> g
 * </pre>
 *
 * b fails while the switch table says so. Every refresh takes about 200 ms (pg_sleep), so that
 * parallel branches show as overlapping run times.
 */
@QuarkusTest
class CascadeTest {

    static final String S = "casc_" + Long.toHexString(System.nanoTime());
    static final Map<String, String> IDS = new HashMap<>();

    @BeforeAll
    static void build() {
        String role = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
        TestDb.runAsSuperuser("CREATE SCHEMA " + S + " AUTHORIZATION " + role);
        String slow = " FROM pg_sleep(0.2)";
        TestDb.run("CREATE TABLE " + S + ".t (id int PRIMARY KEY);"
                + " INSERT INTO " + S + ".t SELECT generate_series(1, 10);"
                + " CREATE TABLE " + S + ".switch (divisor int NOT NULL); INSERT INTO " + S + ".switch VALUES (1);"
                + " CREATE MATERIALIZED VIEW " + S + ".a AS SELECT t.id FROM " + S + ".t, (SELECT 1" + slow + ") s;"
                + " CREATE MATERIALIZED VIEW " + S + ".b AS SELECT a.id / (SELECT divisor FROM " + S + ".switch) AS id"
                + " FROM " + S + ".a, (SELECT 1" + slow + ") s;"
                + " CREATE MATERIALIZED VIEW " + S + ".c AS SELECT a.id FROM " + S + ".a, (SELECT 1" + slow + ") s;"
                + " CREATE MATERIALIZED VIEW " + S + ".d AS SELECT b.id FROM " + S + ".b JOIN " + S + ".c USING (id),"
                + " (SELECT 1" + slow + ") s;"
                + " CREATE VIEW " + S + ".pv AS SELECT id FROM " + S + ".d;"
                + " CREATE MATERIALIZED VIEW " + S + ".e AS SELECT pv.id FROM " + S + ".pv, (SELECT 1" + slow + ") s;"
                + " CREATE MATERIALIZED VIEW " + S + ".u AS SELECT id FROM " + S + ".a;"
                + " CREATE MATERIALIZED VIEW " + S + ".g AS SELECT u.id FROM " + S + ".u, (SELECT 1" + slow + ") s;"
                + " CREATE MATERIALIZED VIEW " + S + ".f AS SELECT t.id FROM " + S + ".t, (SELECT 1" + slow + ") s;");
    }

    /** Registered over HTTP, so once the application is up (the first test), not in @BeforeAll. */
    @org.junit.jupiter.api.BeforeEach
    void register() {
        if (IDS.isEmpty()) {
            for (String v : List.of("a", "b", "c", "d", "e", "g", "f")) {
                IDS.put(v, Api.register(S, v, "standard"));
            }
        }
    }

    @AfterAll
    static void unregister() {
        // The application may be down by now: straight in the table, so no stale registration stays behind.
        TestDb.run("DELETE FROM _ayb_matview_refreshes WHERE schema_name = '" + S + "'");
    }

    private static Map<String, JsonPath> nodes(JsonPath cascade) {
        Map<String, JsonPath> byView = new HashMap<>();
        List<String> views = cascade.getList("nodes.viewName");
        for (int i = 0; i < views.size(); i++) {
            byView.put(views.get(i), JsonPath.from(cascade.prettify()).setRootPath("nodes[" + i + "]"));
        }
        return byView;
    }

    private static OffsetDateTime at(JsonPath node, String field) {
        return OffsetDateTime.parse(node.getString(field));
    }

    /** Node x ended before node y started. */
    private static void before(Map<String, JsonPath> nodes, String x, String y) {
        assertFalse(at(nodes.get(x), "finishedAt").isAfter(at(nodes.get(y), "startedAt")), x + " ended before " + y);
    }

    @Test
    void downstreamRefreshesEveryReaderInGraphOrderWithParallelBranches() {
        JsonPath cascade = given().post(Api.BASE + "/" + IDS.get("a") + "/refresh?cascade=downstream&parallelism=4")
                .then().statusCode(200).body("status", equalTo("success")).body("direction", equalTo("downstream"))
                .extract().jsonPath();
        Map<String, JsonPath> nodes = nodes(cascade);
        assertEquals(Map.of("a", 0, "b", 0, "c", 0, "d", 0, "e", 0, "g", 0).keySet(), nodes.keySet(),
                "f does not read a; u is not registered");
        nodes.values().forEach(n -> assertEquals("success", n.getString("status")));
        before(nodes, "a", "b");
        before(nodes, "a", "c");
        before(nodes, "b", "d");
        before(nodes, "c", "d");
        before(nodes, "d", "e");
        before(nodes, "a", "g");
        // b and c are independent: with a parallelism of 4 they ran at the same time.
        assertTrue(at(nodes.get("b"), "startedAt").isBefore(at(nodes.get("c"), "finishedAt"))
                && at(nodes.get("c"), "startedAt").isBefore(at(nodes.get("b"), "finishedAt")), "b and c overlap");
        // Each node is an ordinary run of its view, marked as part of the cascade.
        String runOfD = nodes.get("d").getString("runId");
        given().get("/api/admin/matview-runs/" + runOfD).then().statusCode(200)
                .body("trigger", equalTo("cascade")).body("cascadeId", equalTo(cascade.getString("id")));
        given().get("/api/admin/cascades/" + cascade.getString("id")).then().statusCode(200)
                .body("status", equalTo("success")).body("nodes.size()", equalTo(6));
    }

    @Test
    void aFailedMiddleNodeSkipsItsDescendantsAndTheOtherBranchesGoOn() {
        TestDb.run("UPDATE " + S + ".switch SET divisor = 0");
        try {
            JsonPath cascade = given().post(Api.BASE + "/" + IDS.get("a") + "/refresh?cascade=downstream")
                    .then().statusCode(200).body("status", equalTo("failed")).extract().jsonPath();
            Map<String, JsonPath> nodes = nodes(cascade);
            assertEquals("success", nodes.get("a").getString("status"));
            assertEquals("error", nodes.get("b").getString("status"));
            assertTrue(nodes.get("b").getString("error").contains("division by zero"), nodes.get("b").getString("error"));
            assertEquals("success", nodes.get("c").getString("status"));
            assertEquals("success", nodes.get("g").getString("status"));
            for (String skipped : List.of("d", "e")) {
                assertEquals("skipped", nodes.get(skipped).getString("status"), skipped);
                assertTrue(nodes.get(skipped).getString("error").contains("upstream " + S + ".b failed (run "
                        + nodes.get("b").getString("runId") + ")"), nodes.get(skipped).getString("error"));
            }
        } finally {
            TestDb.run("UPDATE " + S + ".switch SET divisor = 1");
        }
    }

    @Test
    void upstreamRefreshesTheAncestorsFirstAndRefreshAllTakesEveryView() {
        JsonPath up = given().post(Api.BASE + "/" + IDS.get("d") + "/refresh?cascade=upstream")
                .then().statusCode(200).body("status", equalTo("success")).extract().jsonPath();
        Map<String, JsonPath> nodes = nodes(up);
        assertEquals(Map.of("a", 0, "b", 0, "c", 0, "d", 0).keySet(), nodes.keySet());
        before(nodes, "b", "d");
        before(nodes, "c", "d");

        JsonPath all = given().queryParam("async", "true").post(Api.BASE + "/refresh-all")
                .then().statusCode(202).header("Location", containsString("/api/admin/cascades/"))
                .body("direction", equalTo("all")).extract().jsonPath();
        String id = all.getString("id");
        await().atMost(Duration.ofSeconds(60)).until(() -> !given().get("/api/admin/cascades/" + id).then()
                .extract().path("status").equals("running"));
        // The shared test database holds other tests' registrations too, some of them failing on
        // purpose: this schema's views are what this test answers for.
        JsonPath ended = given().get("/api/admin/cascades/" + id).then().statusCode(200).extract().jsonPath();
        Map<String, JsonPath> allNodes = new HashMap<>();
        List<String> schemas = ended.getList("nodes.schemaName");
        List<String> views = ended.getList("nodes.viewName");
        for (int i = 0; i < views.size(); i++) {
            if (schemas.get(i).equals(S)) {
                allNodes.put(views.get(i), JsonPath.from(ended.prettify()).setRootPath("nodes[" + i + "]"));
            }
        }
        assertEquals(java.util.Set.of("a", "b", "c", "d", "e", "f", "g"), allNodes.keySet());
        allNodes.forEach((v, n) -> assertEquals("success", n.getString("status"), v));
        before(allNodes, "b", "d");
        before(allNodes, "d", "e");
        given().post("/api/admin/cascades/" + id + "/cancel").then().statusCode(409)
                .contentType("application/problem+json").body("type", equalTo("urn:matviews:problem:cascade-finished"));
    }

    @Test
    void cancelStopsTheRunningNodeAndSkipsThePendingOnes() {
        String slow = TestDb.uniqueName("slow");
        TestDb.run("CREATE MATERIALIZED VIEW " + S + "." + slow + " AS SELECT 1 AS id FROM pg_sleep(30) WITH NO DATA;"
                + " CREATE MATERIALIZED VIEW " + S + "." + slow + "_next AS SELECT id FROM " + S + "." + slow
                + " WITH NO DATA");
        String first = Api.register(S, slow, "standard");
        String next = Api.register(S, slow + "_next", "standard");
        try {
            String id = given().queryParam("async", "true").post(Api.BASE + "/" + first + "/refresh?cascade=downstream")
                    .then().statusCode(202).extract().path("id");
            await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.runningRefreshesOf(slow) == 1);
            given().post("/api/admin/cascades/" + id + "/cancel").then().statusCode(202);
            await().atMost(Duration.ofSeconds(20)).until(() -> given().get("/api/admin/cascades/" + id).then()
                    .extract().path("status").equals("cancelled"));
            Map<String, JsonPath> nodes = nodes(given().get("/api/admin/cascades/" + id).then().extract().jsonPath());
            assertEquals("cancelled", nodes.get(slow).getString("status"));
            assertEquals("skipped", nodes.get(slow + "_next").getString("status"));
            assertEquals(0, TestDb.runningRefreshesOf(slow));
            assertEquals(0, TestDb.ourAdvisoryLocks());
        } finally {
            given().delete(Api.BASE + "/" + first);
            given().delete(Api.BASE + "/" + next);
        }
    }

    @Test
    void aViewBusyElsewhereIsSkippedWithItsDescendantsWhenTheCascadeSaysSkip() {
        try (TestDb other = TestDb.open()) {
            other.lockView(S, "b");
            JsonPath cascade = given().post(Api.BASE + "/" + IDS.get("a") + "/refresh?cascade=downstream&onBusy=skip")
                    .then().statusCode(200).body("status", equalTo("failed")).extract().jsonPath();
            Map<String, JsonPath> nodes = nodes(cascade);
            assertEquals("skipped", nodes.get("b").getString("status"), "a skipped view has a run that says why");
            assertTrue(nodes.get("b").getString("error").contains("being refreshed elsewhere"),
                    nodes.get("b").getString("error"));
            assertEquals("skipped", nodes.get("d").getString("status"));
            assertTrue(nodes.get("d").getString("error").contains(S + ".b"), nodes.get("d").getString("error"));
            assertEquals("skipped", nodes.get("e").getString("status"));
            assertEquals("success", nodes.get("c").getString("status"));
            assertEquals("success", nodes.get("g").getString("status"));
            other.unlockView(S, "b");
        }
        assertEquals(0, TestDb.ourAdvisoryLocks());
    }

    @Test
    void aViewBusyElsewhereIsWaitedForAndThenRefreshedWhenTheCascadeSaysWait() {
        String id;
        try (TestDb other = TestDb.open()) {
            other.lockView(S, "b");
            id = given().queryParam("async", "true")
                    .post(Api.BASE + "/" + IDS.get("a") + "/refresh?cascade=downstream&onBusy=wait")
                    .then().statusCode(202).extract().path("id");
            // c and g go on; b waits for the other session, and d for b.
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                Map<String, JsonPath> nodes = nodes(given().get("/api/admin/cascades/" + id).then().extract().jsonPath());
                return nodes.get("c").getString("status").equals("success")
                        && nodes.get("g").getString("status").equals("success");
            });
            Map<String, JsonPath> waiting = nodes(given().get("/api/admin/cascades/" + id).then()
                    .body("status", equalTo("running")).extract().jsonPath());
            assertEquals("pending", waiting.get("b").getString("status"));
            assertEquals("pending", waiting.get("d").getString("status"));
            other.unlockView(S, "b");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> !given().get("/api/admin/cascades/" + id).then()
                .extract().path("status").equals("running"));
        Map<String, JsonPath> nodes = nodes(given().get("/api/admin/cascades/" + id).then()
                .body("status", equalTo("success")).extract().jsonPath());
        before(nodes, "b", "d");
        before(nodes, "d", "e");
        assertEquals(0, TestDb.ourAdvisoryLocks());
    }

    @Test
    void badInputIsAProblemAndChangesNothing() {
        given().post(Api.BASE + "/" + IDS.get("a") + "/refresh?cascade=sideways").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("cascade"));
        given().post(Api.BASE + "/" + IDS.get("a") + "/refresh?cascade=downstream&parallelism=0").then().statusCode(400)
                .contentType("application/problem+json");
        given().post(Api.BASE + "/" + IDS.get("a") + "/refresh?cascade=downstream&onBusy=maybe").then().statusCode(400)
                .contentType("application/problem+json");
        given().get("/api/admin/cascades/" + java.util.UUID.randomUUID()).then().statusCode(404)
                .body("type", equalTo("urn:matviews:problem:cascade-not-found"));
        given().get("/api/admin/cascades/nope").then().statusCode(400);
    }
}
