package dev.matviews.catalog;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The catalog and the dependency graph (issue 14) on a real database, built in a schema of its
 * own: tables, plain views on plain views, matviews on them, a diamond of matviews, one read only
 * through a plain view, indexes CONCURRENTLY can and cannot use, and a matview of another role.
 *
 * <pre>
 *   t1 -> v1 -> v2 -> a -> b -> vb -> d
 *   t2 ------------> a -> c ------> d
 * </pre>
 */
@QuarkusTest
class CatalogTest {

    static final String S = "cat_" + Long.toHexString(System.nanoTime());
    static final String OTHER_ROLE = "matviews_catalog_other";

    @BeforeAll
    static void build() {
        String role = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
        TestDb.runAsSuperuser("CREATE SCHEMA " + S + " AUTHORIZATION " + role
                + "; DO $$ BEGIN CREATE ROLE " + OTHER_ROLE + " NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        TestDb.run("CREATE TABLE " + S + ".t1 (id int PRIMARY KEY, v int);"
                + " CREATE TABLE " + S + ".t2 (id int PRIMARY KEY, w int);"
                + " INSERT INTO " + S + ".t1 SELECT g, g FROM generate_series(1, 100) g;"
                + " INSERT INTO " + S + ".t2 SELECT g, g FROM generate_series(1, 100) g;"
                + " CREATE VIEW " + S + ".v1 AS SELECT id, v FROM " + S + ".t1;"
                + " CREATE VIEW " + S + ".v2 AS SELECT id, v * 2 AS v FROM " + S + ".v1;"
                + " CREATE MATERIALIZED VIEW " + S + ".a AS SELECT v2.id, v2.v, t2.w FROM " + S + ".v2 JOIN " + S
                + ".t2 USING (id);"
                + " CREATE UNIQUE INDEX a_id ON " + S + ".a (id); ANALYZE " + S + ".a;"
                + " CREATE MATERIALIZED VIEW " + S + ".b AS SELECT id, v FROM " + S + ".a WHERE id % 2 = 0;"
                + " CREATE UNIQUE INDEX b_part ON " + S + ".b (id) WHERE id > 10;"
                + " CREATE MATERIALIZED VIEW " + S + ".c AS SELECT id, w FROM " + S + ".a WITH NO DATA;"
                + " CREATE UNIQUE INDEX c_id ON " + S + ".c (id);"
                + " CREATE VIEW " + S + ".vb AS SELECT id, v FROM " + S + ".b;"
                + " CREATE MATERIALIZED VIEW " + S + ".d AS SELECT vb.id, vb.v, c.w FROM " + S + ".vb LEFT JOIN " + S
                + ".c USING (id) WITH NO DATA;");
        TestDb.runAsSuperuser("CREATE MATERIALIZED VIEW " + S + ".theirs AS SELECT 1 AS id;"
                + " ALTER MATERIALIZED VIEW " + S + ".theirs OWNER TO " + OTHER_ROLE);
    }

    /** The catalog's entries of a schema by view name, each as the JSON object the API answered. */
    private static Map<String, JsonPath> catalogOf(String schema) {
        JsonPath page = given().queryParam("schema", schema).queryParam("limit", 1000)
                .get("/api/admin/catalog/matviews").then().statusCode(200).extract().jsonPath();
        List<String> views = page.getList("items.viewName");
        Map<String, JsonPath> entries = new java.util.HashMap<>();
        for (int i = 0; i < views.size(); i++) {
            entries.put(views.get(i), JsonPath.from(page.prettify()).setRootPath("items[" + i + "]"));
        }
        return entries;
    }

    private static Set<String> names(JsonPath entry, String list) {
        List<String> names = entry.getList(list + ".name");
        List<String> kinds = entry.getList(list + ".kind");
        Set<String> result = new HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            result.add(names.get(i) + ":" + kinds.get(i));
        }
        return result;
    }

    @Test
    void everyMatviewIsListedWithWhatItReadsWhatReadsItItsIndexesAndPrivileges() {
        String idOfB = Api.register(S, "b", "auto");
        try {
            Map<String, JsonPath> entries = catalogOf(S);
            assertEquals(Set.of("a", "b", "c", "d", "theirs"), entries.keySet());

            JsonPath a = entries.get("a");
            assertEquals(Set.of("t1:table", "t2:table", "v1:view", "v2:view"), names(a, "upstream"));
            assertEquals(Set.of("b:materialized view", "c:materialized view"), names(a, "downstream"));
            assertTrue(a.getBoolean("populated"));
            assertTrue(a.getBoolean("concurrentEligible"));
            assertTrue(a.getBoolean("canRefresh"));
            assertEquals(100L, a.getLong("rowEstimate"), "analysed in the set-up");
            assertTrue(a.getLong("sizeBytes") > 0);
            assertNull(a.get("registrationId"));

            JsonPath b = entries.get("b");
            assertEquals(idOfB, b.getString("registrationId"));
            assertEquals(Set.of("d:materialized view"), names(b, "downstream"), "read through the plain view vb");
            assertFalse(b.getBoolean("concurrentEligible"));
            assertEquals("partial (has a WHERE clause)", b.getString("uniqueIndexes[0].reason"));
            assertFalse(b.getBoolean("uniqueIndexes[0].usable"));
            assertTrue(b.getString("concurrentIneligibleReason").contains("b_part is partial"));

            JsonPath c = entries.get("c");
            assertFalse(c.getBoolean("populated"));
            assertTrue(c.getBoolean("uniqueIndexes[0].usable"));
            assertTrue(c.getString("concurrentIneligibleReason").startsWith("not populated"));
            assertNull(c.get("rowEstimate"), "never analysed");

            JsonPath d = entries.get("d");
            assertEquals(Set.of("vb:view", "b:materialized view", "c:materialized view"), names(d, "upstream"));
            assertEquals(Set.of(), names(d, "downstream"));
            assertTrue(d.getString("concurrentIneligibleReason").startsWith("not populated"), "PostgreSQL's order");

            JsonPath theirs = entries.get("theirs");
            assertEquals(OTHER_ROLE, theirs.getString("owner"));
            assertFalse(theirs.getBoolean("canRefresh"));
            String missing = theirs.getString("missingPrivilege");
            assertTrue(missing.equals("MAINTAIN") || missing.equals("OWNER"), missing);
            assertEquals("no unique index", theirs.getString("concurrentIneligibleReason"));
            // Registered anyway, its refresh is refused with a problem that names what is missing.
            String idOfTheirs = Api.register(S, "theirs", "auto");
            Api.refresh(idOfTheirs).statusCode(409).contentType("application/problem+json")
                    .body("type", equalTo("urn:matviews:problem:refresh-not-permitted"))
                    .body("detail", containsString(missing.equals("MAINTAIN") ? "MAINTAIN privilege" : "to own"));
            given().delete(Api.BASE + "/" + idOfTheirs).then().statusCode(204);

            // Only registered, only unregistered.
            given().queryParam("schema", S).queryParam("registered", "true").get("/api/admin/catalog/matviews")
                    .then().statusCode(200).body("count", equalTo(1)).body("items[0].viewName", equalTo("b"));
            given().queryParam("schema", S).queryParam("registered", "false").get("/api/admin/catalog/matviews")
                    .then().statusCode(200).body("count", equalTo(4));
        } finally {
            given().delete(Api.BASE + "/" + idOfB).then().statusCode(204);
        }
    }

    @Test
    void pagesOfAnySizeWalkTheWholeCatalogOnce() {
        List<String> all = new ArrayList<>();
        for (int size : new int[]{1, 2, 3, 1000}) {
            List<String> seen = new ArrayList<>();
            String cursor = null;
            do {
                var request = given().queryParam("limit", size);
                if (cursor != null) {
                    request.queryParam("cursor", cursor);
                }
                JsonPath page = request.get("/api/admin/catalog/matviews").then().statusCode(200).extract().jsonPath();
                List<Map<String, String>> items = page.getList("items");
                assertTrue(items.size() <= size);
                items.forEach(i -> seen.add(i.get("schemaName") + "." + i.get("viewName")));
                cursor = page.getString("nextCursor");
            } while (cursor != null);
            assertEquals(seen.size(), new HashSet<>(seen).size(), "no repeats with pages of " + size);
            if (all.isEmpty()) {
                all.addAll(seen);
            }
            // Other tests add views meanwhile; this schema's five are in every walk, in order.
            List<String> ours = seen.stream().filter(n -> n.startsWith(S + ".")).toList();
            assertEquals(List.of(S + ".a", S + ".b", S + ".c", S + ".d", S + ".theirs"), ours, "pages of " + size);
        }
        given().queryParam("limit", 0).get("/api/admin/catalog/matviews").then().statusCode(400)
                .contentType("application/problem+json");
        given().queryParam("cursor", "bm90IGEgY3Vyc29y").get("/api/admin/catalog/matviews").then().statusCode(400)
                .contentType("application/problem+json");
        given().queryParam("registered", "maybe").get("/api/admin/catalog/matviews").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("registered"));
    }

    private static Set<String> edges(JsonPath graph) {
        List<Map<String, String>> edges = graph.getList("edges");
        return edges.stream().map(e -> e.get("from") + ">" + e.get("to")).collect(Collectors.toSet());
    }

    private static String n(String name) {
        return S + "." + name;
    }

    @Test
    void theGraphAroundAViewReachesEveryDepthBothWaysAndFollowsDropsAndRecreations() {
        String idOfB = Api.register(S, "b", "standard");
        try {
            JsonPath around = given().get(Api.BASE + "/" + idOfB + "/graph").then().statusCode(200).extract().jsonPath();
            assertEquals(Set.of(n("t1") + ">" + n("v1"), n("v1") + ">" + n("v2"), n("v2") + ">" + n("a"),
                    n("t2") + ">" + n("a"), n("a") + ">" + n("b"), n("b") + ">" + n("vb"), n("vb") + ">" + n("d")),
                    edges(around));
            List<Map<String, Object>> nodes = around.getList("nodes");
            Map<String, Object> b = nodes.stream().filter(x -> x.get("id").equals(n("b"))).findFirst().orElseThrow();
            assertEquals(idOfB, b.get("registrationId"));
            assertEquals("materialized view", b.get("kind"));

            String dot = given().queryParam("format", "dot").get(Api.BASE + "/" + idOfB + "/graph").then()
                    .statusCode(200).contentType("text/vnd.graphviz").extract().asString();
            assertTrue(dot.startsWith("digraph matviews {"), dot);
            assertTrue(dot.contains("\"" + n("a") + "\" -> \"" + n("b") + "\";"), dot);
            given().queryParam("format", "svg").get(Api.BASE + "/" + idOfB + "/graph").then().statusCode(400)
                    .contentType("application/problem+json");
            // with where to draw it: every node and edge, what is read left of what reads it
            JsonPath laid = given().queryParam("layout", "true").get(Api.BASE + "/" + idOfB + "/graph").then()
                    .statusCode(200).extract().jsonPath();
            assertEquals(around.getList("nodes.id"), laid.getList("layout.nodes.id"));
            assertEquals(edges(around).size(), laid.getList("layout.edges").size());
            float aX = laid.getFloat("layout.nodes.find { it.id == '" + n("a") + "' }.x");
            float bX = laid.getFloat("layout.nodes.find { it.id == '" + n("b") + "' }.x");
            assertTrue(aX < bX, aX + " " + bX);
            given().queryParam("layout", "true").queryParam("format", "dot").get("/api/admin/graph").then()
                    .statusCode(400).contentType("application/problem+json");
            given().queryParam("layout", "maybe").get("/api/admin/graph").then().statusCode(400)
                    .contentType("application/problem+json");

            // The whole graph has the diamond and the plain views.
            JsonPath whole = given().get("/api/admin/graph").then().statusCode(200).extract().jsonPath();
            assertTrue(edges(whole).containsAll(Set.of(n("a") + ">" + n("b"), n("a") + ">" + n("c"),
                    n("c") + ">" + n("d"), n("b") + ">" + n("vb"), n("vb") + ">" + n("d"))), edges(whole).toString());

            // d dropped and recreated on c alone: b has nothing downstream any more.
            TestDb.run("DROP MATERIALIZED VIEW " + S + ".d; CREATE MATERIALIZED VIEW " + S + ".d AS SELECT id FROM "
                    + S + ".c WITH NO DATA");
            JsonPath after = given().get(Api.BASE + "/" + idOfB + "/graph").then().statusCode(200).extract().jsonPath();
            assertFalse(edges(after).contains(n("vb") + ">" + n("d")));
            assertTrue(edges(after).contains(n("b") + ">" + n("vb")));

            // b itself dropped: its graph is a matview-gone problem, not an empty answer.
            TestDb.run("DROP MATERIALIZED VIEW " + S + ".b CASCADE");
            given().get(Api.BASE + "/" + idOfB + "/graph").then().statusCode(404)
                    .contentType("application/problem+json").body("type", equalTo("urn:matviews:problem:matview-gone"));
            TestDb.run("CREATE MATERIALIZED VIEW " + S + ".b AS SELECT id, v FROM " + S + ".a WHERE id % 2 = 0;"
                    + " CREATE UNIQUE INDEX b_part ON " + S + ".b (id) WHERE id > 10;"
                    + " CREATE VIEW " + S + ".vb AS SELECT id, v FROM " + S + ".b;"
                    + " DROP MATERIALIZED VIEW " + S + ".d; CREATE MATERIALIZED VIEW " + S + ".d AS SELECT vb.id, vb.v,"
                    + " c.w FROM " + S + ".vb LEFT JOIN " + S + ".c USING (id) WITH NO DATA");
        } finally {
            given().delete(Api.BASE + "/" + idOfB).then().statusCode(204);
        }
    }
}
