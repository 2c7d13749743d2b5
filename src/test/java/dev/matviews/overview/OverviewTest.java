package dev.matviews.overview;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /api/admin/overview over real registrations and runs: each view in one state, the window's runs counted. */
@QuarkusTest
class OverviewTest {

    private static final String PATH = "/api/admin/overview";

    private static JsonPath overview() {
        return given().get(PATH).then().statusCode(200).extract().jsonPath();
    }

    private static String matview(String prefix, String query) {
        String view = TestDb.uniqueName(prefix);
        TestDb.run("CREATE MATERIALIZED VIEW public." + view + " AS " + query);
        return view;
    }

    private static String register(String view, String extra) {
        return given().contentType(ContentType.JSON).body("{\"schema\":\"public\",\"viewName\":\"" + view
                        + "\",\"refreshMode\":\"standard\"" + extra + "}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
    }

    /** A matview whose refresh fails with {@code message} while its flag table is empty. */
    private static String failing(String message) {
        String table = TestDb.uniqueName("flag");
        TestDb.run("CREATE TABLE public." + table + " (id int); INSERT INTO public." + table + " VALUES (1);"
                + " CREATE FUNCTION public." + table + "_check() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN"
                + " IF (SELECT count(*) FROM public." + table + ") = 0 THEN RAISE EXCEPTION '" + message
                + "'; END IF; RETURN 1; END $f$;");
        String view = matview("failing", "SELECT public." + table + "_check() AS x");
        TestDb.run("DELETE FROM public." + table);
        return view;
    }

    private static int count(JsonPath o, String state) {
        return o.getInt("counts." + state);
    }

    private static List<String> attentionIds(JsonPath o) {
        return o.getList("attention.id");
    }

    @Test
    void eachRegistrationIsCountedInOneStateAndTheUrgentOnesListedInOrder() {
        JsonPath before = overview();

        String fresh = register(matview("fresh", "SELECT 1 AS id"), "");
        Api.refresh(fresh).statusCode(200);
        String never = register(matview("never", "SELECT 1 AS id"), "");
        String failed = register(failing("overview says boom"), "");
        Api.refresh(failed).statusCode(500);
        // stale past maxStalenessSeconds: behind, the one furthest past its bound first
        String behindMore = register(matview("behind", "SELECT 1 AS id"), ",\"maxStalenessSeconds\":1");
        String behindLess = register(matview("behind", "SELECT 1 AS id"), ",\"maxStalenessSeconds\":2");
        Api.refresh(behindMore).statusCode(200);
        Api.refresh(behindLess).statusCode(200);
        String suspended = register(matview("suspended", "SELECT 1 AS id"), "");
        Api.refresh(suspended).statusCode(200);
        TestDb.run("UPDATE _ayb_matview_refreshes SET suspended_at = now(), suspended_by = id,"
                + " suspended_reason = '5 scheduled refreshes failed in a row' WHERE id = '" + suspended + "'");
        // a failing view that is also suspended counts as suspended only
        String failedSuspended = register(failing("suspended and failing"), "");
        Api.refresh(failedSuspended).statusCode(500);
        TestDb.run("UPDATE _ayb_matview_refreshes SET suspended_at = now(), suspended_by = id,"
                + " suspended_reason = 'suspended because of a failing source' WHERE id = '" + failedSuspended + "'");

        JsonPath after = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(OverviewTest::overview, o -> count(o, "behindTarget") - count(before, "behindTarget") == 2);
        assertEquals(7, count(after, "total") - count(before, "total"));
        assertEquals(1, count(after, "fresh") - count(before, "fresh"));
        assertEquals(1, count(after, "neverRefreshed") - count(before, "neverRefreshed"));
        assertEquals(1, count(after, "failing") - count(before, "failing"));
        assertEquals(2, count(after, "suspended") - count(before, "suspended"));
        assertEquals(count(after, "behindTarget") + count(after, "failing") + count(after, "suspended"),
                after.getInt("attentionTotal"));

        List<String> ids = attentionIds(after);
        List<Map<String, Object>> items = after.getList("attention");
        assertTrue(ids.indexOf(behindMore) >= 0 && ids.indexOf(behindMore) < ids.indexOf(behindLess), ids.toString());
        assertTrue(ids.indexOf(behindLess) < ids.indexOf(failed), ids.toString());
        assertTrue(ids.indexOf(failed) < ids.indexOf(suspended), ids.toString());
        assertTrue(ids.indexOf(suspended) >= 0 && ids.indexOf(failedSuspended) >= 0, ids.toString());
        assertTrue(!ids.contains(fresh) && !ids.contains(never), ids.toString());
        Map<String, Object> f = items.get(ids.indexOf(failed));
        assertEquals("failing", f.get("state"));
        assertEquals("error", f.get("lastRefreshStatus"));
        assertTrue(String.valueOf(f.get("reason")).contains("overview says boom"), f.toString());
        Map<String, Object> b = items.get(ids.indexOf(behindMore));
        assertEquals("behind-target", b.get("state"));
        assertEquals(1, b.get("maxStalenessSeconds"));
        Map<String, Object> s = items.get(ids.indexOf(failedSuspended));
        assertEquals("suspended", s.get("state"));
        assertEquals("suspended because of a failing source", s.get("reason"));

        // a resumed view that refreshes is no longer urgent
        given().post(Api.BASE + "/" + suspended + "/resume").then().statusCode(200);
        JsonPath resumed = overview();
        assertEquals(count(after, "suspended") - 1, count(resumed, "suspended"));
        assertEquals(count(after, "fresh") + 1, count(resumed, "fresh"));
        assertTrue(!attentionIds(resumed).contains(suspended));
    }

    private static int sum(JsonPath o, String field) {
        List<Number> values = o.getList("hours." + field);
        return values.stream().mapToInt(Number::intValue).sum();
    }

    @Test
    void theWindowCountsRunsByOutcomeAndTheTimeTheyTook() {
        String table = TestDb.uniqueName("src");
        TestDb.run("CREATE TABLE public." + table + " (id int PRIMARY KEY); INSERT INTO public." + table + " VALUES (1)");
        String slow = matview("slow", "SELECT id, pg_sleep(0.3) IS NULL AS slept FROM public." + table);
        String unchanged = register(matview("unchanged", "SELECT id FROM public." + table), ",\"skipUnchanged\":true");
        given().post(Api.BASE + "/" + unchanged + "/change-tracking").then().statusCode(200);
        String slowId = register(slow, "");
        String failed = register(failing("window failure"), "");
        JsonPath before = overview();

        Api.refresh(slowId).statusCode(200);
        Api.refresh(unchanged).statusCode(200);
        Api.refresh(unchanged).statusCode(200).body("skipped", org.hamcrest.Matchers.notNullValue());
        Api.refresh(failed).statusCode(500);
        JsonPath after = overview();

        assertEquals(24, after.getList("hours").size());
        assertEquals(24, after.getInt("windowHours"));
        assertEquals(2, sum(after, "success") - sum(before, "success"));
        assertEquals(1, sum(after, "skipped") - sum(before, "skipped"));
        assertEquals(1, sum(after, "failed") - sum(before, "failed"));
        int took = sum(after, "refreshMs") - sum(before, "refreshMs");
        assertTrue(took >= 300, "the slow refresh alone took 300 ms; counted " + took);
        assertEquals(1, after.getInt("failuresTotal") - before.getInt("failuresTotal"));
        assertEquals(failed, after.getString("failures[0].registrationId"));
        assertEquals("error", after.getString("failures[0].status"));
        assertTrue(after.getString("failures[0].error").contains("window failure"));
        // one hour: the same runs (they all ended within the last minutes, which the current hour may not hold)
        JsonPath hour = given().get(PATH + "?hours=1").then().statusCode(200).extract().jsonPath();
        assertEquals(1, hour.getList("hours").size());
    }

    @Test
    void aBadWindowIsAProblem() {
        for (String hours : new String[]{"0", "169", "-1", "x", "1.5", "99999999999"}) {
            given().get(PATH + "?hours=" + hours).then().statusCode(400)
                    .contentType("application/problem+json").body("detail", containsString("hours"));
        }
    }
}
