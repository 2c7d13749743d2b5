package dev.matviews.registry;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The registration list: the original form, cursor pages and filters, over HTTP. */
@QuarkusTest
class RegistrationListTest {

    /**
     * Names whose order is easy to get wrong (case, underscores, prefixes, digits); a registration
     * takes plain identifiers only.
     */
    private static final List<String> AWKWARD = List.of("a", "A", "ab", "a_b", "abc", "A_", "_u", "Z", "z9", "a1",
            "a10", "a2", "aB", "Ab", "x_y_z", "ab_");

    private static String quoted(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /** The service's role may not create schemas: the superuser does, and hands it to that role. */
    private static void schema(String name) {
        TestDb.runAsSuperuser("CREATE SCHEMA " + quoted(name) + " AUTHORIZATION " + quoted(
                org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("quarkus.datasource.username",
                        String.class)));
    }

    private static void matview(String schema, String view) {
        TestDb.run("CREATE MATERIALIZED VIEW " + quoted(schema) + "." + quoted(view) + " AS SELECT 1 AS id");
    }

    private static String register(String schema, String view) {
        return given().contentType(ContentType.JSON).body(Map.of("schema", schema, "viewName", view))
                .post(Api.BASE).then().statusCode(201).extract().path("id");
    }

    /** Two schemas whose names are prefixes of each other, each holding every awkward view name. */
    private static List<String> schemas() {
        String base = TestDb.uniqueName("pages");
        List<String> schemas = List.of(base, base + "a");
        for (String schema : schemas) {
            schema(schema);
            for (String view : AWKWARD) {
                matview(schema, view);
                register(schema, view);
            }
        }
        return schemas;
    }

    private static List<String> names(ExtractableResponse<Response> answer) {
        List<String> schemas = answer.path("items.schemaName");
        List<String> views = answer.path("items.viewName");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < schemas.size(); i++) {
            names.add(schemas.get(i) + "/" + views.get(i));
        }
        return names;
    }

    private static ExtractableResponse<Response> list(Map<String, ?> params) {
        return given().queryParams(params).get(Api.BASE).then().statusCode(200).contentType(ContentType.JSON)
                .extract();
    }

    @Test
    void pagesWalkTheWholeListInTheSameOrderWithoutGapsOrRepeats() {
        List<String> schemas = schemas();
        ExtractableResponse<Response> original = list(Map.of());
        assertNull(original.path("nextCursor"), "the original form is one answer");
        List<String> all = names(original).stream().filter(n -> n.startsWith(schemas.get(0) + "/")
                || n.startsWith(schemas.get(1) + "/")).toList();
        assertEquals(2 * AWKWARD.size(), all.size());
        for (int limit : new int[]{1, 2, 3, 7, 1000}) {
            List<String> paged = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                Map<String, Object> params = cursor == null ? Map.of("limit", limit) : Map.of("limit", limit, "cursor", cursor);
                ExtractableResponse<Response> page = list(params);
                List<String> items = names(page);
                assertEquals(items.size(), (int) page.path("count"));
                paged.addAll(items);
                cursor = page.path("nextCursor");
                pages++;
            } while (cursor != null && pages < 10_000);
            List<String> ours = paged.stream().filter(all::contains).toList();
            assertEquals(all, ours, "limit " + limit);
            assertEquals(paged.size(), paged.stream().distinct().count(), "limit " + limit + ": no repeats");
        }
    }

    @Test
    void filtersBySchemaViewStatusAndStaleness() {
        String schema = TestDb.uniqueName("flt");
        schema(schema);
        TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".ok AS SELECT 1 AS id;"
                + " CREATE MATERIALIZED VIEW " + schema + ".bad AS SELECT 1 AS id;"
                + " CREATE MATERIALIZED VIEW " + schema + ".untouched AS SELECT 1 AS id;"
                + " CREATE MATERIALIZED VIEW " + schema + ".slow AS SELECT 1 AS id FROM pg_sleep(0)");
        String ok = register(schema, "ok");
        String bad = register(schema, "bad");
        String untouched = register(schema, "untouched");
        register(schema, "slow");
        Api.refresh(ok).statusCode(200);
        given().contentType(ContentType.JSON).body(Map.of("refreshMode", "concurrent")).put(Api.BASE + "/" + bad)
                .then().statusCode(200);
        Api.refresh(bad).statusCode(greaterThanOrEqualTo(400)); // no unique index: recorded as an error
        given().contentType(ContentType.JSON).body(Map.of("maxStalenessSeconds", 3600)).put(Api.BASE + "/" + ok)
                .then().statusCode(200);
        given().contentType(ContentType.JSON).body(Map.of("maxStalenessSeconds", 3600)).put(Api.BASE + "/" + untouched)
                .then().statusCode(200);

        assertEquals(List.of(schema + "/bad", schema + "/ok", schema + "/slow", schema + "/untouched"),
                names(list(Map.of("schema", schema))));
        assertEquals(List.of(schema + "/ok"), names(list(Map.of("schema", schema, "status", "success"))));
        assertEquals(List.of(schema + "/bad"), names(list(Map.of("schema", schema, "status", "error"))));
        assertEquals(List.of(schema + "/slow", schema + "/untouched"),
                names(list(Map.of("schema", schema, "status", "never"))));
        assertEquals(List.of(), names(list(Map.of("schema", schema, "status", "running"))));
        assertEquals(List.of(schema + "/ok"), names(list(Map.of("schema", schema, "view", "ok"))));
        assertEquals(List.of(), names(list(Map.of("schema", schema, "view", "ok", "status", "error"))));
        assertEquals(List.of(), names(list(Map.of("schema", schema, "view", "OK"))), "names are exact");
        assertEquals(List.of(schema + "/slow"), names(list(Map.of("view", "slow", "schema", schema, "limit", 5))));
        assertEquals(List.of(schema + "/untouched"), names(list(Map.of("schema", schema, "stale", "true"))));
        assertEquals(List.of(schema + "/bad", schema + "/ok", schema + "/slow"),
                names(list(Map.of("schema", schema, "stale", "false"))));
        assertEquals(List.of(schema + "/ok"), names(list(Map.of("schema", schema, "stale", "false",
                "status", "success"))));
        ExtractableResponse<Response> firstPage = list(Map.of("schema", schema, "status", "never", "limit", 1));
        assertEquals(List.of(schema + "/slow"), names(firstPage));
        assertEquals(List.of(schema + "/untouched"), names(list(Map.of("schema", schema, "status", "never",
                "limit", 1, "cursor", firstPage.path("nextCursor")))));
        // A stale view would turn the staleness health group of the whole (shared) database DOWN.
        given().delete(Api.BASE + "/" + untouched).then().statusCode(204);
    }

    @Test
    void badParametersAreProblemsAndChangeNothing() {
        String notAPair = Base64.getUrlEncoder().encodeToString("only-one-name".getBytes(StandardCharsets.UTF_8));
        for (Map<String, String> params : List.of(Map.of("status", "bogus"), Map.of("stale", "maybe"),
                Map.of("limit", "0"), Map.of("limit", "1001"), Map.of("limit", "x"), Map.of("cursor", "%%%"),
                Map.of("cursor", notAPair), Map.of("cursor", "AAAA"))) {
            given().queryParams(params).get(Api.BASE).then()
                    .statusCode(400).contentType("application/problem+json")
                    .body("status", equalTo(400), "detail", containsString(params.keySet().iterator().next()));
        }
    }

    @Test
    void theOriginalFormHasNoCursor() {
        given().get(Api.BASE).then().statusCode(200).body("nextCursor", nullValue());
    }
}
