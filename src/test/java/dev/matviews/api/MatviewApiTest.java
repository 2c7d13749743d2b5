package dev.matviews.api;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every status of the admin routes (contract section 4), over HTTP, with the problem bodies. */
@QuarkusTest
class MatviewApiTest {

    private static final String RFC3339 = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})";

    private static ValidatableResponse problem(ValidatableResponse response, int status, String type) {
        return response.statusCode(status)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:matviews:problem:" + type))
                .body("title", notNullValue())
                .body("status", equalTo(status))
                .body("code", equalTo(status))
                .body("detail", notNullValue())
                .body("message", notNullValue());
    }

    private static ValidatableResponse post(String json) {
        return given().contentType(ContentType.JSON).body(json).post(Api.BASE).then();
    }

    private static String matview() {
        String name = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + name + " AS SELECT 1 AS id");
        return name;
    }

    private static long registrations() {
        return TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes");
    }

    @Test
    void registerAnswers201WithTheRegistrationAndLocation() {
        String view = matview();
        String id = post("{\"viewName\":\"" + view + "\"}")
                .statusCode(201)
                .contentType(ContentType.JSON)
                .header("Location", containsString(Api.BASE + "/"))
                .body("schemaName", equalTo("public"))
                .body("viewName", equalTo(view))
                .body("refreshMode", equalTo("standard"))
                .body("$", hasKey("lastRefreshAt"))
                .body("lastRefreshAt", nullValue())
                .body("lastRefreshDurationMs", nullValue())
                .body("lastRefreshStatus", nullValue())
                .body("lastRefreshError", nullValue())
                .body("createdAt", matchesPattern(RFC3339))
                .body("updatedAt", matchesPattern(RFC3339))
                .extract().path("id");
        Api.get(id).statusCode(200).body("id", equalTo(id)).body("viewName", equalTo(view));
    }

    @Test
    void listAnswers200WithItemsAndCount() {
        Api.register("public", matview(), "standard");
        List<String> names = given().get(Api.BASE).then().statusCode(200).contentType(ContentType.JSON)
                .body("count", equalTo(given().get(Api.BASE).then().extract().path("items.size()")))
                .extract().path("items.viewName");
        assertEquals(names.size(), given().get(Api.BASE).then().extract().<Integer>path("count"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"viewName\":",                                     // not JSON
            "[1, 2]",                                             // not an object
            "{}",                                                 // viewName missing
            "{\"viewName\":\"\"}",                                // viewName empty
            "{\"viewName\":\"bad-name\"}",                        // bad identifier
            "{\"viewName\":\"ok\",\"schema\":\"bad.schema\"}",    // bad schema
            "{\"viewName\":\"ok\",\"refreshMode\":\"fast\"}",     // bad mode
            "{\"viewName\":{\"nested\":true}}"                    // wrong type
    })
    void registerAnswers400ForBadInputAndStoresNothing(String body) {
        long before = registrations();
        problem(post(body), 400, "invalid-request");
        assertEquals(before, registrations());
    }

    @Test
    void registerAnswers400ForNamesLongerThan63Bytes() {
        String longName = "v".repeat(64);
        problem(post("{\"viewName\":\"" + longName + "\"}"), 400, "invalid-request")
                .body("detail", equalTo("viewName must be at most 63 bytes long"));
        problem(post("{\"schema\":\"" + longName + "\",\"viewName\":\"ok\"}"), 400, "invalid-request")
                .body("detail", equalTo("schema must be at most 63 bytes long"));
    }

    @Test
    void registerAnswers404ForATableAPlainViewOrNothing() {
        String table = TestDb.uniqueName("tbl");
        String plain = TestDb.uniqueName("plain");
        TestDb.run("CREATE TABLE public." + table + " (id int); CREATE VIEW public." + plain + " AS SELECT 1 AS id");
        problem(post("{\"viewName\":\"" + table + "\"}"), 404, "matview-not-found");
        problem(post("{\"viewName\":\"" + plain + "\"}"), 404, "matview-not-found");
        problem(post("{\"viewName\":\"nothing_here\"}"), 404, "matview-not-found")
                .body("detail", equalTo("no materialized view public.nothing_here exists in the database"));
    }

    @Test
    void registerAnswers409ForADuplicate() {
        String view = matview();
        Api.register("public", view, "standard");
        problem(post("{\"viewName\":\"" + view + "\",\"refreshMode\":\"concurrent\"}"), 409, "already-registered");
    }

    @Test
    void registerAnswers415ForANonJsonBody() {
        given().contentType(ContentType.TEXT).body("viewName=x").post(Api.BASE).then()
                .statusCode(415).contentType("application/problem+json").body("status", equalTo(415));
    }

    @Test
    void getAnswers400ForABadUuidAnd404ForAnUnknownOne() {
        problem(given().get(Api.BASE + "/not-a-uuid").then(), 400, "invalid-request")
                .body("detail", containsString("must be a UUID"));
        problem(given().get(Api.BASE + "/" + UUID.randomUUID()).then(), 404, "registration-not-found");
    }

    @Test
    void updateAnswers200WithTheNewMode() {
        String id = Api.register("public", matview(), "standard");
        given().contentType(ContentType.JSON).body("{\"refreshMode\":\"concurrent\"}").put(Api.BASE + "/" + id)
                .then().statusCode(200).contentType(ContentType.JSON)
                .body("id", equalTo(id)).body("refreshMode", equalTo("concurrent"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "{\"refreshMode\":\"fast\"}", "{\"refreshMode\":", "null"})
    void updateAnswers400ForABadBodyAndChangesNothing(String body) {
        String id = Api.register("public", matview(), "standard");
        problem(given().contentType(ContentType.JSON).body(body).put(Api.BASE + "/" + id).then(), 400, "invalid-request");
        Api.get(id).body("refreshMode", equalTo("standard"));
    }

    @Test
    void updateAnswers400ForABadUuidAnd404ForAnUnknownOne() {
        problem(given().contentType(ContentType.JSON).body("{\"refreshMode\":\"standard\"}")
                .put(Api.BASE + "/123").then(), 400, "invalid-request");
        problem(given().contentType(ContentType.JSON).body("{\"refreshMode\":\"standard\"}")
                .put(Api.BASE + "/" + UUID.randomUUID()).then(), 404, "registration-not-found");
    }

    @Test
    void deleteAnswers204Then404() {
        String id = Api.register("public", matview(), "standard");
        given().delete(Api.BASE + "/" + id).then().statusCode(204);
        problem(given().delete(Api.BASE + "/" + id).then(), 404, "registration-not-found");
        problem(given().delete(Api.BASE + "/zzz").then(), 400, "invalid-request");
    }

    @Test
    void refreshAnswers200AndIgnoresTheBody() {
        String id = Api.register("public", matview(), "standard");
        given().contentType(ContentType.JSON).body("{\"anything\": [1,2,3]}").post(Api.BASE + "/" + id + "/refresh")
                .then().statusCode(200).contentType(ContentType.JSON)
                .body("registration.lastRefreshStatus", equalTo("success"))
                .body("durationMs", notNullValue());
    }

    @Test
    void refreshAnswers400ForABadUuid() {
        problem(Api.refresh("' OR 1=1 --"), 400, "invalid-request");
    }

    @Test
    void unknownRoutesAndMethodsAreProblemsToo() {
        given().get("/api/admin/nothing").then().statusCode(404).contentType("application/problem+json");
        given().patch(Api.BASE).then().statusCode(405).contentType("application/problem+json");
    }

    @Test
    void problemBodiesNeverCarryClassNames() {
        String body = post("{\"viewName\":{\"nested\":true}}").extract().asString();
        assertEquals(-1, body.indexOf("dev.matviews"), body);
        post("[1]").body("detail", not(containsString("RegisterRequest")));
    }
}
