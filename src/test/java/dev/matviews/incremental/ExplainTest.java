package dev.matviews.incremental;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import io.vertx.core.json.JsonObject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * POST /api/admin/matviews/explain over HTTP against a real PostgreSQL: what can be maintained
 * incrementally is said so, every construct that prevents it is named, and a definition
 * PostgreSQL refuses is a 400 problem that changes nothing.
 */
@QuarkusTest
class ExplainTest {

    static final String ROLE = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
    static String s;

    @BeforeAll
    static void tables() {
        s = TestDb.uniqueName("ivm");
        TestDb.runAsSuperuser("CREATE SCHEMA " + s + " AUTHORIZATION " + ROLE);
        TestDb.run("CREATE TABLE " + s + ".a (id int, g int, v numeric); CREATE TABLE " + s + ".b (id int, w text);"
                + " INSERT INTO " + s + ".a VALUES (1, 1, 10); CREATE VIEW " + s + ".plain AS SELECT id FROM " + s + ".a;"
                + " CREATE DOMAIN " + s + ".positive AS int CHECK (VALUE > 0); CREATE TYPE " + s + ".mood AS ENUM ('x', 'y')");
    }

    private static ValidatableResponse explain(String definition) {
        return given().contentType(ContentType.JSON).body(new JsonObject().put("definition", definition).encode())
                .post(Api.BASE + "/explain").then();
    }

    @Test
    void whatCanBeMaintainedIsSaidSo() {
        explain("SELECT a.g, count(*) AS n, sum(a.v) AS s, avg(a.v) AS mean, min(b.w) AS lo, max(b.w) AS hi"
                + " FROM " + s + ".a JOIN " + s + ".b ON a.id = b.id WHERE a.v > 0 GROUP BY a.g")
                .statusCode(200).body("incrementalEligible", equalTo(true)).body("reasons", empty())
                .body("columns", equalTo(List.of("g", "n", "s", "mean", "lo", "hi")))
                .body("sources", equalTo(List.of(s + ".a", s + ".b")));
        for (String eligible : List.of(
                "SELECT DISTINCT g FROM " + s + ".a",
                "SELECT a.id, a.v * 2 AS twice, lower(b.w) AS w FROM " + s + ".a, " + s + ".b WHERE a.id = b.id",
                "SELECT x.id, y.g FROM " + s + ".a x JOIN " + s + ".a y ON x.id = y.g",
                "SELECT id::text AS t, coalesce(v, 0) AS v FROM " + s + ".a WHERE v IS NOT NULL",
                "SELECT count(*) AS n FROM " + s + ".a",
                "TABLE " + s + ".b",
                // types matched by a default btree equality through binary coercion, polymorphism or a domain
                "SELECT w::varchar AS vc, ARRAY[id] AS ids, int4range(id, id + 1) AS r,"
                        + " id::" + s + ".positive AS p, 'x'::" + s + ".mood AS m FROM " + s + ".b",
                // names the tree writes escaped: spaces, parentheses, braces, quotes, backslashes
                "SELECT id AS \"x) {y} \"\"z\"\" \\ w\", w AS \"<>\" FROM " + s + ".b")) {
            explain(eligible).statusCode(200).body("incrementalEligible", equalTo(true)).body("reasons", empty());
        }
    }

    @Test
    void everyConstructThatPreventsItIsNamed() {
        String a = s + ".a";
        String b = s + ".b";
        Map<String, String> refused = Map.ofEntries(
                Map.entry("SELECT a.id, b.w FROM " + a + " LEFT JOIN " + b + " ON a.id = b.id", "a LEFT outer join"),
                Map.entry("SELECT a.id FROM " + a + " FULL JOIN " + b + " ON a.id = b.id", "a FULL outer join"),
                Map.entry("SELECT id FROM " + a + " WHERE id IN (SELECT id FROM " + b + ")", "a subquery in an expression"),
                Map.entry("SELECT x.id FROM (SELECT id FROM " + a + ") x", "a subquery in FROM"),
                Map.entry("SELECT id, row_number() OVER () AS r FROM " + a, "a window function"),
                Map.entry("SELECT g, count(*) AS n FROM " + a + " GROUP BY g HAVING count(*) > 1", "HAVING"),
                Map.entry("SELECT id FROM " + a + " ORDER BY id", "ORDER BY"),
                Map.entry("SELECT id FROM " + a + " LIMIT 3", "LIMIT, OFFSET or FETCH"),
                Map.entry("SELECT id FROM " + a + " UNION SELECT id FROM " + b, "a set operation (UNION, INTERSECT or EXCEPT)"),
                Map.entry("SELECT id, random() AS r FROM " + a, "the volatile function pg_catalog.random"),
                Map.entry("SELECT id, now() AS t FROM " + a, "the stable function pg_catalog.now"),
                Map.entry("SELECT id, CURRENT_DATE AS d FROM " + a, "CURRENT_DATE, CURRENT_TIMESTAMP"),
                Map.entry("SELECT id, v::text::timestamptz AS t FROM " + a, "a cast through text"),
                Map.entry("SELECT g, count(DISTINCT v) AS n FROM " + a + " GROUP BY g", "an aggregate over DISTINCT values"),
                Map.entry("SELECT id, string_agg(w, ',') AS ws FROM " + b + " GROUP BY id", "the aggregate pg_catalog.string_agg"),
                Map.entry("SELECT g, count(*) FILTER (WHERE v > 1) AS n FROM " + a + " GROUP BY g", "FILTER on an aggregate"),
                Map.entry("SELECT g, sum(v) + 1 AS s FROM " + a + " GROUP BY g", "an expression over an aggregate (column s)"),
                Map.entry("SELECT 1 AS x", "it reads no table"),
                Map.entry("SELECT id FROM " + s + ".plain", "the view " + s + ".plain"),
                Map.entry("SELECT id AS __x FROM " + a, "the column __x"),
                Map.entry("WITH w AS (SELECT id FROM " + a + ") SELECT id FROM w", "a WITH query"),
                Map.entry("SELECT g FROM " + a + " GROUP BY ROLLUP (g)", "GROUPING SETS, ROLLUP or CUBE"),
                Map.entry("SELECT DISTINCT ON (g) g, id FROM " + a, "DISTINCT ON"),
                Map.entry("SELECT x FROM generate_series(1, 3) x", "a function in FROM"),
                Map.entry("SELECT relname FROM pg_catalog.pg_class", "the system catalog pg_catalog.pg_class"),
                Map.entry("SELECT id, ctid FROM " + a, "a system column"),
                Map.entry("SELECT id, to_json(w) AS j FROM " + b, "the column j of type json, which has no equality"),
                Map.entry("SELECT id, point(id, id) AS p FROM " + a, "the column p of type point"));
        refused.forEach((definition, reason) -> explain(definition).statusCode(200)
                .body("incrementalEligible", equalTo(false))
                .body("reasons", hasItem(containsString(reason))));
        // what it reads is named, not "no table" besides
        explain("SELECT relname FROM pg_catalog.pg_class").statusCode(200).body("reasons", hasSize(1));
        // several at once: each named once
        explain("SELECT a.id, random() AS r FROM " + a + " LEFT JOIN " + b + " ON a.id = b.id ORDER BY 1 LIMIT 2")
                .statusCode(200).body("reasons", hasSize(4));
    }

    @Test
    void aDefinitionPostgresRefusesIsABadRequestThatChangesNothing() {
        String a = s + ".a";
        for (String bad : List.of("SELEC 1", "SELECT * FROM " + s + ".nothing", "SELECT 1; DROP TABLE " + a,
                "WITH d AS (DELETE FROM " + a + " RETURNING id) SELECT id FROM d", "SELECT nope FROM " + a, "   ",
                "SELECT id FROM " + a + " WHERE id = 1\u0000")) {
            explain(bad).statusCode(400).contentType("application/problem+json").body("detail", containsString("definition"));
        }
        given().contentType(ContentType.JSON).body("{}").post(Api.BASE + "/explain").then().statusCode(400)
                .contentType("application/problem+json");
        given().contentType(ContentType.JSON).body("{\"definition\": 12}").post(Api.BASE + "/explain").then().statusCode(400)
                .contentType("application/problem+json");
        assertEquals(1, TestDb.count("SELECT count(*) FROM " + a), "the table and its row are still there");
        assertEquals(0, TestDb.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'matviews_explain_%'"),
                "no view of an explain is left");
    }
}
