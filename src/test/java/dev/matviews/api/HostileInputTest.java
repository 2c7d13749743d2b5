package dev.matviews.api;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The known hostile inputs of issue 12, each answered with a 400 problem that says what is wrong
 * and changes nothing (HostileInputIT generates the rest).
 */
@QuarkusTest
class HostileInputTest {

    private static final String SCHEDULES = "/api/admin/schedules";

    private static ValidatableResponse invalid(ValidatableResponse response, String detailPart) {
        return response.statusCode(400).contentType("application/problem+json")
                .body("type", equalTo("urn:matviews:problem:invalid-request"))
                .body("detail", containsString(detailPart));
    }

    private static String registeredView() {
        String name = TestDb.uniqueName("hostile");
        TestDb.run("CREATE MATERIALIZED VIEW public." + name + " AS SELECT 1 AS id");
        return Api.register("public", name, "standard");
    }

    private static long schedules() {
        return TestDb.count("SELECT count(*) FROM _ayb_job_schedules");
    }

    @ParameterizedTest
    @ValueSource(strings = {"@every 3000000d", "@every 99999999999999999999s", "@every 9223372036854775807d",
            "@every 0s", "@every -5s", "* * * * * * *", "0 0 31 2 *", "0 0 30 2 *", "@every 367d"})
    void schedulesThatCannotFireSensiblyAreRefusedAndNothingIsStored(String cron) {
        String id = registeredView();
        long before = schedules();
        invalid(given().contentType(ContentType.JSON).body("{\"cronExpr\":\"" + cron + "\"}")
                .put(Api.BASE + "/" + id + "/schedule").then(), "cronExpr");
        invalid(given().contentType(ContentType.JSON).body("{\"name\":\"" + TestDb.uniqueName("s")
                + "\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"x\"},\"cronExpr\":\""
                + cron + "\"}").post(SCHEDULES).then(), "cronExpr");
        assertEquals(before, schedules());
        given().get(Api.BASE).then().statusCode(200);
    }

    @Test
    void aFarFutureDueTimeStoredByAnEarlierReleaseDoesNotBreakTheLists() {
        String id = registeredView();
        String schedule = given().contentType(ContentType.JSON).body("{\"cronExpr\":\"@every 1d\"}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200).extract().path("id");
        // What "@every 3000000d" stored before it was refused.
        TestDb.run("UPDATE _ayb_job_schedules SET cron_expr = '@every 3000000d', next_run_at = '10240-01-01 00:00:00+00'"
                + " WHERE id = '" + schedule + "'");
        given().get(Api.BASE).then().statusCode(200);
        given().get(Api.BASE + "/" + id).then().statusCode(200).body("schedule.nextRunAt", containsString("10240"));
        given().get(SCHEDULES).then().statusCode(200);
        given().get(SCHEDULES + "/" + schedule).then().statusCode(200);
        given().delete(SCHEDULES + "/" + schedule).then().statusCode(204);
    }

    @Test
    void aNulInTextIsRefusedNotStored() {
        long before = schedules();
        invalid(given().contentType(ContentType.JSON).body("{\"name\":\"a\\u0000b\",\"jobType\":\"materialized_view_refresh\","
                + "\"payload\":{\"view_name\":\"x\"},\"cronExpr\":\"@daily\"}").post(SCHEDULES).then(), "NUL");
        invalid(given().contentType(ContentType.JSON).body("{\"name\":\"ok\",\"jobType\":\"materialized_view_refresh\","
                + "\"payload\":{\"view_name\":\"x\\u0000\"},\"cronExpr\":\"@daily\"}").post(SCHEDULES).then(), "payload.view_name");
        invalid(given().contentType(ContentType.JSON).body("{\"viewName\":\"a\\u0000b\"}").post(Api.BASE).then(), "viewName");
        assertEquals(before, schedules());
        invalid(given().urlEncodingEnabled(false).get("/api/admin/jobs?type=a%00b").then(), "'type'");
        invalid(given().urlEncodingEnabled(false).get(Api.BASE + "/" + registeredView() + "/runs?status=%00").then(),
                "'status'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "1.5", "1e+308", "99999999999", "0x10", " "})
    void aLimitThatIsNotAWholeNumberIs400NamingIt(String limit) {
        invalid(given().queryParam("limit", limit).get("/api/admin/jobs").then(), "limit");
        invalid(given().queryParam("limit", limit).get(Api.BASE + "/" + registeredView() + "/runs").then(), "limit");
    }

    @Test
    void everyTextFieldHasALimit() {
        String id = registeredView();
        String longText = "x".repeat(5000);
        invalid(given().contentType(ContentType.JSON).body("{\"viewName\":\"" + longText + "\"}").post(Api.BASE).then(),
                "viewName");
        invalid(given().contentType(ContentType.JSON).body("{\"schema\":\"" + longText + "\",\"viewName\":\"v\"}")
                .post(Api.BASE).then(), "schema");
        invalid(given().contentType(ContentType.JSON).body("{\"refreshMode\":\"" + longText + "\"}")
                .put(Api.BASE + "/" + id).then(), "refreshMode");
        for (String field : new String[]{"name", "cronExpr", "timezone", "jobType", "missedRunPolicy"}) {
            invalid(given().contentType(ContentType.JSON).body("{\"" + field + "\":\"" + longText + "\"}")
                    .put(Api.BASE + "/" + id + "/schedule").then(), field);
        }
        invalid(given().contentType(ContentType.JSON).body("{\"password\":\"" + longText + "\"}").post("/api/admin/auth")
                .then(), "password");
        invalid(given().queryParam("type", "t".repeat(1000)).get("/api/admin/jobs").then(), "type");
        invalid(given().queryParam("cursor", "y".repeat(3000)).get(Api.BASE + "/" + id + "/runs").then(), "cursor");
    }

    @io.quarkus.test.common.http.TestHTTPResource("/api/admin/matviews")
    java.net.URI matviews;

    @Test
    void anOversizedBodyIsAnsweredNotCutOffAndTheClientGoesOn() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        byte[] large = ("{\"viewName\":\"" + "z".repeat(2 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 20; i++) {
            java.net.http.HttpResponse<String> refused = http.send(java.net.http.HttpRequest.newBuilder(matviews)
                    .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(large))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(413, refused.statusCode());
            assertEquals("application/problem+json", refused.headers().firstValue("Content-Type").orElse(""));
            assertEquals(200, http.send(java.net.http.HttpRequest.newBuilder(matviews).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    @Test
    void bodiesTooDeepTooLargeOrNotUtf8AreRefused() {
        long registrations = TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes");
        String id = registeredView();
        invalid(given().contentType(ContentType.JSON).body("[".repeat(10_000) + "]".repeat(10_000)).put(Api.BASE + "/" + id)
                .then(), "nested too deeply");
        long start = System.nanoTime();
        invalid(given().contentType(ContentType.JSON).body("{\"payload\":" + "{\"a\":".repeat(100) + "1" + "}".repeat(101))
                .post(SCHEDULES).then(), "nested too deeply");
        given().contentType(ContentType.JSON).body("{\"viewName\":\"" + "z".repeat(1024 * 1024) + "\"}").post(Api.BASE)
                .then().statusCode(413).contentType("application/problem+json").body("detail", containsString("64 KiB"));
        invalid(given().contentType(ContentType.JSON).body(new byte[]{'{', '"', 'v', 'i', 'e', 'w', 'N', 'a', 'm', 'e', '"',
                ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}).post(Api.BASE).then(), "UTF-8");
        given().contentType(ContentType.TEXT).body("viewName=x".getBytes(StandardCharsets.UTF_8)).post(Api.BASE).then()
                .statusCode(415).contentType("application/problem+json").body("detail", notNullValue());
        invalid(given().contentType(ContentType.JSON).body("{\"viewName\":\"v\",\"maxStalenessSeconds\":1"
                + "0".repeat(60) + "}").post(Api.BASE).then(), "too many digits");
        System.out.printf("hostile bodies answered in %d ms%n", (System.nanoTime() - start) / 1_000_000);
        invalid(given().queryParam("async", "maybe").post(Api.BASE + "/" + registeredView() + "/refresh").then(), "async");
        assertEquals(registrations + 2, TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes"));
    }
}
