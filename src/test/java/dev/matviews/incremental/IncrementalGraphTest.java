package dev.matviews.incremental;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Incremental views are nodes of the dependency graph like matviews: drawn with what they read
 * and what reads them (an incremental view reading another, a matview reading one through a plain
 * view), ordered in cascades, and suspended with what they feed.
 */
@QuarkusTest
class IncrementalGraphTest {

    private static String id(String schema, String view, String definition) {
        return IncrementalViewTest.register(schema, view, definition).statusCode(201).extract().path("id");
    }

    private static Instant at(JsonPath node, String field) {
        return Instant.parse(node.getString(field));
    }

    @Test
    void incrementalViewsAreDrawnOrderedAndSuspendedWithTheirReaders() {
        String s = TestDb.uniqueName("incg");
        TestDb.runAsSuperuser("CREATE SCHEMA " + s + " AUTHORIZATION " + IncrementalViewTest.ROLE);
        TestDb.run("CREATE TABLE " + s + ".src (id int PRIMARY KEY, k int, v int);"
                + " CREATE TABLE " + s + ".names (k int, label text);"
                + " INSERT INTO " + s + ".src SELECT i, i % 3, i FROM generate_series(1, 30) i;"
                + " INSERT INTO " + s + ".names VALUES (0, 'zero'), (1, 'one'), (2, 'two')");
        String totals = id(s, "totals", "SELECT k, count(*) AS n, sum(v) AS total FROM " + s + ".src GROUP BY k");
        String labelledDefinition = "SELECT t.k, t.total, l.label FROM " + s + ".totals t JOIN " + s + ".names l ON l.k = t.k";
        String labelled = id(s, "labelled", labelledDefinition);
        TestDb.run("CREATE VIEW " + s + ".big AS SELECT k, total FROM " + s + ".totals WHERE total > 160;"
                + " CREATE MATERIALIZED VIEW " + s + ".report AS SELECT * FROM " + s + ".big");
        String report = Api.register(s, "report", "standard");

        // The whole graph: both kinds of edge, the incremental views registered nodes of their own kind.
        JsonPath graph = given().get("/api/admin/graph").then().statusCode(200).extract().jsonPath();
        Map<String, String> kinds = new HashMap<>();
        Map<String, String> registrations = new HashMap<>();
        List<Map<String, Object>> nodes = graph.getList("nodes");
        for (Map<String, Object> n : nodes) {
            kinds.put((String) n.get("id"), (String) n.get("kind"));
            registrations.put((String) n.get("id"), (String) n.get("registrationId"));
        }
        String src = s + ".src";
        String names = s + ".names";
        assertEquals("incremental view", kinds.get(s + ".totals"));
        assertEquals("incremental view", kinds.get(s + ".labelled"));
        assertEquals("table", kinds.get(src));
        assertEquals(totals, registrations.get(s + ".totals"));
        assertEquals(labelled, registrations.get(s + ".labelled"));
        List<String> edges = graph.getList("edges", Map.class).stream().map(e -> e.get("from") + " -> " + e.get("to")).toList();
        for (String edge : List.of(src + " -> " + s + ".totals", s + ".totals -> " + s + ".labelled",
                names + " -> " + s + ".labelled", s + ".totals -> " + s + ".big", s + ".big -> " + s + ".report")) {
            assertTrue(edges.contains(edge), "edge " + edge + " in " + edges);
        }
        given().get("/api/admin/graph?format=dot").then().statusCode(200)
                .body(containsString("\"" + s + ".totals\" [shape=box, style=\"bold,rounded\"]"));

        // Around an incremental view: its sources and, at any depth, its readers of both kinds (not their other sources).
        given().get(Api.BASE + "/" + totals + "/graph").then().statusCode(200)
                .body("nodes.id", hasItems(src, s + ".totals", s + ".labelled", s + ".big", s + ".report"))
                .body("nodes.id", not(hasItem(names)));
        given().get(Api.BASE + "/" + labelled + "/graph").then().statusCode(200)
                .body("nodes.id", hasItems(src, s + ".totals", s + ".labelled", names));

        // A cascade from it refreshes its readers after it, and the data flows through all of them.
        TestDb.run("INSERT INTO " + s + ".src SELECT i, i % 3, i FROM generate_series(31, 40) i;"
                + " UPDATE " + s + ".names SET label = 'ONE' WHERE k = 1");
        JsonPath cascade = given().post(Api.BASE + "/" + totals + "/refresh?cascade=downstream")
                .then().statusCode(200).body("status", equalTo("success")).extract().jsonPath();
        List<String> views = cascade.getList("nodes.viewName");
        assertEquals(3, views.size(), "totals, labelled and report: " + views);
        Map<String, JsonPath> byView = new HashMap<>();
        for (int i = 0; i < views.size(); i++) {
            byView.put(views.get(i), JsonPath.from(cascade.prettify()).setRootPath("nodes[" + i + "]"));
            assertEquals("success", byView.get(views.get(i)).getString("status"));
        }
        for (String reader : List.of("labelled", "report")) {
            assertFalse(at(byView.get("totals"), "finishedAt").isAfter(at(byView.get(reader), "startedAt")),
                    "totals ended before " + reader + " started");
        }
        assertEquals(0, IncrementalViewTest.difference(s + ".labelled", List.of("k", "total", "label"), labelledDefinition));
        assertEquals(0, TestDb.count("SELECT count(*) FROM ((TABLE " + s + ".report EXCEPT ALL TABLE " + s + ".big)"
                + " UNION ALL (TABLE " + s + ".big EXCEPT ALL TABLE " + s + ".report)) x"));
        assertEquals(3, TestDb.count("SELECT count(*) FROM " + s + ".report"), "every group's total is above 160 now");

        // Failing scheduled refreshes suspend it and, named, every registered view it feeds.
        TestDb.run("ALTER TABLE " + s + ".src ALTER COLUMN v TYPE bigint");
        for (int i = 1; i <= 5; i++) {
            TestDb.run("INSERT INTO _ayb_jobs (type, payload, max_attempts) VALUES ('materialized_view_refresh',"
                    + " '{\"schema\": \"" + s + "\", \"view_name\": \"totals\"}', 1);"
                    + " SELECT pg_notify('matviews_scheduler', 'jobs')");
            int expected = i;
            await().atMost(Duration.ofSeconds(20)).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs"
                    + " WHERE payload ->> 'schema' = '" + s + "' AND state = 'failed'") == expected);
        }
        Api.get(totals).body("suspended", equalTo(true)).body("suspendedReason", containsString("changed type"));
        for (String reader : List.of(labelled, report)) {
            Api.get(reader).body("suspended", equalTo(true)).body("suspendedBy", equalTo(totals))
                    .body("suspendedReason", containsString("reads " + s + ".totals, which is suspended"));
        }
    }

    /**
     * A matview with skipUnchanged reading an incremental view: the view's table is one of its
     * tracked sources, so an apply that changed it is a change (no skip) and one that changed
     * nothing is none (skipped).
     */
    @Test
    void aMatviewReadingAnIncrementalViewSkipsOnlyWhileTheViewDidNotChange() {
        String s = TestDb.uniqueName("incs");
        TestDb.runAsSuperuser("CREATE SCHEMA " + s + " AUTHORIZATION " + IncrementalViewTest.ROLE);
        TestDb.run("CREATE TABLE " + s + ".src (k int, v int); INSERT INTO " + s + ".src SELECT i % 3, i FROM generate_series(1, 30) i");
        String totals = id(s, "totals", "SELECT k, sum(v) AS total FROM " + s + ".src GROUP BY k");
        TestDb.run("CREATE MATERIALIZED VIEW " + s + ".report AS SELECT sum(total) AS grand FROM " + s + ".totals");
        String report = given().contentType(io.restassured.http.ContentType.JSON)
                .body("{\"schema\":\"" + s + "\",\"viewName\":\"report\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        given().post(Api.BASE + "/" + report + "/change-tracking").then().statusCode(200);
        Api.refresh(report).statusCode(200).body("skipped", org.hamcrest.Matchers.nullValue());
        Api.refresh(report).statusCode(200).body("skipped", org.hamcrest.Matchers.notNullValue());
        // an apply with nothing pending writes nothing: still unchanged
        Api.refresh(totals).statusCode(200);
        Api.refresh(report).statusCode(200).body("skipped", org.hamcrest.Matchers.notNullValue());
        // a write to the source changes nothing the report reads until the apply
        TestDb.run("INSERT INTO " + s + ".src VALUES (1, 1000)");
        Api.refresh(report).statusCode(200).body("skipped", org.hamcrest.Matchers.notNullValue());
        Api.refresh(totals).statusCode(200);
        Api.refresh(report).statusCode(200).body("skipped", org.hamcrest.Matchers.nullValue());
        assertEquals(465 + 1000, TestDb.count("SELECT grand FROM " + s + ".report"));
    }
}
