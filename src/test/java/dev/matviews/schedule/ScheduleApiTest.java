package dev.matviews.schedule;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The schedule routes and the per-view convenience routes, validated at creation. */
@QuarkusTest
class ScheduleApiTest {

    private static final String SCHEDULES = "/api/admin/schedules";

    private static ValidatableResponse create(String json) {
        return given().contentType(ContentType.JSON).body(json).post(SCHEDULES).then();
    }

    private static String body(String name, String payload, String cron, String tz) {
        return "{\"name\":\"" + name + "\",\"jobType\":\"materialized_view_refresh\",\"payload\":" + payload
                + ",\"cronExpr\":\"" + cron + "\",\"timezone\":\"" + tz + "\"}";
    }

    private static long schedules() {
        return TestDb.count("SELECT count(*) FROM _ayb_job_schedules");
    }

    @Test
    void createListGetUpdateEnableDisableDelete() {
        String name = TestDb.uniqueName("nightly");
        String id = create(body(name, "{\"view_name\":\"leaderboard\"}", "30 3 * * *", "Europe/Berlin"))
                .statusCode(201)
                .header("Location", containsString(SCHEDULES + "/"))
                .body("name", equalTo(name))
                .body("jobType", equalTo("materialized_view_refresh"))
                .body("payload.view_name", equalTo("leaderboard"))
                .body("timezone", equalTo("Europe/Berlin"))
                .body("enabled", equalTo(true))
                .body("maxAttempts", equalTo(3))
                .body("maxRuntimeMs", equalTo(3600000))
                .body("missedRunPolicy", equalTo("run_once"))
                .body("nextRunAt", notNullValue())
                .extract().path("id");

        given().get(SCHEDULES).then().statusCode(200).body("name", hasItem(name));
        given().get(SCHEDULES + "/" + id).then().statusCode(200).body("cronExpr", equalTo("30 3 * * *"));

        String before = given().get(SCHEDULES + "/" + id).then().extract().path("nextRunAt");
        given().contentType(ContentType.JSON).body("{\"cronExpr\":\"@hourly\",\"maxAttempts\":5}").put(SCHEDULES + "/" + id)
                .then().statusCode(200).body("cronExpr", equalTo("@hourly")).body("maxAttempts", equalTo(5))
                .body("timezone", equalTo("Europe/Berlin")).body("nextRunAt", not(equalTo(before)));

        given().post(SCHEDULES + "/" + id + "/disable").then().statusCode(200)
                .body("enabled", equalTo(false)).body("nextRunAt", nullValue());
        given().post(SCHEDULES + "/" + id + "/enable").then().statusCode(200)
                .body("enabled", equalTo(true)).body("nextRunAt", notNullValue());

        given().delete(SCHEDULES + "/" + id).then().statusCode(204);
        given().get(SCHEDULES + "/" + id).then().statusCode(404).contentType("application/problem+json")
                .body("type", containsString("schedule-not-found"));
        given().delete(SCHEDULES + "/" + id).then().statusCode(404);
    }

    @Test
    void nextRunsPreviewsACronInItsTimeZoneAndRefusesBadInputAsAProblem() {
        var preview = given().queryParam("cronExpr", "30 2 * * *").queryParam("timezone", "Europe/Berlin")
                .queryParam("count", "3").get("/api/admin/schedules/next-runs").then().statusCode(200)
                .body("cronExpr", equalTo("30 2 * * *")).body("timezone", equalTo("Europe/Berlin"))
                .extract().jsonPath().getList("nextRuns", String.class);
        assertEquals(3, preview.size());
        java.time.Instant previous = java.time.Instant.now();
        for (String due : preview) {
            java.time.Instant at = java.time.Instant.parse(due);
            assertTrue(at.isAfter(previous), preview.toString());
            java.time.ZonedDateTime local = at.atZone(java.time.ZoneId.of("Europe/Berlin"));
            assertEquals(2, local.getHour(), due);
            assertEquals(30, local.getMinute(), due);
            previous = at;
        }
        assertEquals(5, given().queryParam("cronExpr", "@every 10m").get("/api/admin/schedules/next-runs").then()
                .statusCode(200).extract().jsonPath().getList("nextRuns").size());
        for (String[] bad : new String[][]{{"61 * * * *", "UTC", "5"}, {"* * * * *", "Mars/Olympus", "5"},
                {"* * * * *", "UTC", "21"}, {"* * * * *", "UTC", "x"}, {"0 0 31 2 *", "UTC", "5"}, {"", "UTC", "5"},
                {"* ".repeat(150), "UTC", "5"}}) {
            given().queryParam("cronExpr", bad[0]).queryParam("timezone", bad[1]).queryParam("count", bad[2])
                    .get("/api/admin/schedules/next-runs").then().statusCode(400)
                    .contentType("application/problem+json");
        }
        given().get("/api/admin/schedules/next-runs").then().statusCode(400).contentType("application/problem+json");
    }

    @Test
    void aDuplicateNameIs409AtCreateAndAtRename() {
        String name = TestDb.uniqueName("dup");
        create(body(name, "{\"view_name\":\"a\"}", "@daily", "UTC")).statusCode(201);
        create(body(name, "{\"view_name\":\"b\"}", "@daily", "UTC")).statusCode(409)
                .contentType("application/problem+json").body("type", containsString("schedule-name-taken"));
        String other = create(body(TestDb.uniqueName("other"), "{\"view_name\":\"b\"}", "@daily", "UTC"))
                .statusCode(201).extract().path("id");
        given().contentType(ContentType.JSON).body("{\"name\":\"" + name + "\"}").put(SCHEDULES + "/" + other)
                .then().statusCode(409).body("type", containsString("schedule-name-taken"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"name\":\"x1\",\"jobType\":\"send_email\",\"payload\":{},\"cronExpr\":\"@daily\"}",
            "{\"name\":\"x2\",\"jobType\":\"materialized_view_refresh\",\"payload\":{},\"cronExpr\":\"@daily\"}",
            "{\"name\":\"x3\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"bad-name\"},\"cronExpr\":\"@daily\"}",
            "{\"name\":\"x4\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\",\"extra\":1},\"cronExpr\":\"@daily\"}",
            "{\"name\":\"x5\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\"},\"cronExpr\":\"61 * * * *\"}",
            "{\"name\":\"x6\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\"},\"cronExpr\":\"@daily\",\"timezone\":\"Mars/Base\"}",
            "{\"name\":\"x7\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\"},\"cronExpr\":\"@daily\",\"maxAttempts\":0}",
            "{\"name\":\"x8\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\"},\"cronExpr\":\"@daily\",\"missedRunPolicy\":\"later\"}",
            "{\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\"},\"cronExpr\":\"@daily\"}",
            "{\"name\":\"x9\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\"}}",
            "{\"name\":\"x10\",\"jobType\":\"materialized_view_refresh\",\"payload\":[1],\"cronExpr\":\"@daily\"}",
            "{\"name\":\"x11\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"v\"},\"cronExpr\":\"@daily\",\"enabled\":\"yes\"}",
            "not json"
    })
    void invalidSchedulesAre400AndStoreNothing(String json) {
        long before = schedules();
        create(json).statusCode(400).contentType("application/problem+json").body("type", containsString("invalid-request"));
        assertEquals(before, schedules());
    }

    @Test
    void aViewIsScheduledThroughItsRegistrationAndShowsItsNextRun() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        Api.get(id).body("schedule", nullValue());

        String scheduleId = given().contentType(ContentType.JSON).body("{\"cronExpr\":\"*/5 * * * *\",\"timezone\":\"UTC\"}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200)
                .body("name", equalTo("matview-refresh:public." + mv))
                .body("payload.schema", equalTo("public"))
                .body("payload.view_name", equalTo(mv))
                .extract().path("id");
        String next = given().get(SCHEDULES + "/" + scheduleId).then().extract().path("nextRunAt");
        Api.get(id).body("schedule.id", equalTo(scheduleId)).body("schedule.cronExpr", equalTo("*/5 * * * *"))
                .body("schedule.nextRunAt", equalTo(next));

        given().contentType(ContentType.JSON).body("{\"cronExpr\":\"@daily\",\"timezone\":\"Asia/Tokyo\"}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200)
                .body("id", equalTo(scheduleId)).body("timezone", equalTo("Asia/Tokyo"));
        given().contentType(ContentType.JSON).body("{\"timezone\":\"UTC\"}").put(Api.BASE + "/" + id + "/schedule")
                .then().statusCode(400).body("detail", containsString("cronExpr"));

        given().delete(Api.BASE + "/" + id + "/schedule").then().statusCode(204);
        Api.get(id).body("schedule", nullValue());
        given().delete(Api.BASE + "/" + id + "/schedule").then().statusCode(404)
                .body("type", containsString("schedule-not-found"));
        given().contentType(ContentType.JSON).body("{\"cronExpr\":\"@daily\"}")
                .put(Api.BASE + "/" + UUID.randomUUID() + "/schedule").then().statusCode(404)
                .body("type", containsString("registration-not-found"));
    }

    @Test
    void unregisteringAViewDeletesItsSchedulesAndSaysSo() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        String scheduleId = given().contentType(ContentType.JSON).body("{\"cronExpr\":\"@hourly\"}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200).extract().path("id");
        String retryPending = UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_jobs (id, type, payload, run_at) VALUES ('" + retryPending
                + "', 'materialized_view_refresh', '{\"view_name\":\"" + mv + "\"}', now() + interval '1 hour')");

        given().delete(Api.BASE + "/" + id).then().statusCode(200)
                .body("removedSchedules", hasItem("matview-refresh:public." + mv));
        given().get(SCHEDULES + "/" + scheduleId).then().statusCode(404);
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes WHERE view_name = '" + mv + "'"));
        given().get("/api/admin/jobs/" + retryPending).then().body("state", equalTo("canceled"))
                .body("lastError", containsString("unregistered"));
    }
}
