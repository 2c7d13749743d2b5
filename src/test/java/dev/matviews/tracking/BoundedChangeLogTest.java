package dev.matviews.tracking;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The change log stays bounded while no replica runs (issue 25, item 4): past max-log-age without
 * a compaction, or past max-log-size, capture stops, writers log nothing, and the views reading
 * tracked tables are refreshed in full, saying why, until tracking is turned on again. Compaction
 * runs only when a test asks for it here (no replica "runs" in between), and the log may hold 64 KiB.
 */
@QuarkusTest
@TestProfile(BoundedChangeLogTest.NoCompaction.class)
class BoundedChangeLogTest {

    public static class NoCompaction implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("matviews.change-tracking.compact-interval", "1h",
                    "matviews.change-tracking.max-log-size", "64K");
        }
    }

    static final String ROLE = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Inject
    ChangeTrackingService tracking;

    @BeforeEach
    void anEmptyLogThatCaptures() {
        // the database is shared with the other test classes, whose changes may have grown the log past this profile's 64 KiB
        TestDb.runAsSuperuser("TRUNCATE _matviews_changes");
        captureRunsAgain();
    }

    @AfterEach
    void captureRunsAgain() {
        // capture is one thing for the whole database: leave it running for the other tests
        TestDb.runAsSuperuser("UPDATE _matviews_capture SET stopped_at = NULL, stop_reason = NULL,"
                + " deadline = now() + interval '6 hours', max_bytes = 1073741824;"
                + " UPDATE _matviews_tracked_tables SET interrupted_at = NULL");
    }

    private record View(String schema, String id) {
    }

    private static View trackedView() {
        String schema = TestDb.uniqueName("bound");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + ROLE);
        TestDb.run("CREATE TABLE " + schema + ".t (k int); INSERT INTO " + schema + ".t VALUES (1);"
                + " CREATE MATERIALIZED VIEW " + schema + ".mv AS SELECT count(*) AS n, coalesce(sum(k), 0) AS s FROM "
                + schema + ".t");
        String id = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + schema + "\",\"viewName\":\"mv\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        track(id);
        assertNull(refresh(id).getString("skipped"), "the first refresh after tracking is full");
        assertNotNull(refresh(id).getString("skipped"), "then skipped while nothing changed");
        return new View(schema, id);
    }

    private static void track(String id) {
        given().post(Api.BASE + "/" + id + "/change-tracking").then().statusCode(200);
    }

    private static JsonPath refresh(String id) {
        return Api.refresh(id).statusCode(200).extract().jsonPath();
    }

    private static long logged(View v) {
        return TestDb.count("SELECT count(*) FROM _matviews_changes WHERE relid = '" + v.schema() + ".t'::regclass");
    }

    private static long viewRows(View v) {
        return TestDb.count("SELECT n FROM " + v.schema() + ".mv");
    }

    @Test
    void pastMaxLogAgeWithoutAReplicaCaptureStopsViewsAreRefreshedInFullAndTrackingOnRestartsIt() {
        View a = trackedView();
        View b = trackedView();
        // the log had grown large (past this profile's 64 KiB) before the replicas went away
        TestDb.runAsSuperuser("INSERT INTO _matviews_changes (relid, xact) SELECT 0, pg_current_xact_id()"
                + " FROM generate_series(1, 5000)");
        // every replica stopped longer ago than max-log-age: the deadline its last compaction set has passed
        TestDb.runAsSuperuser("UPDATE _matviews_capture SET deadline = now() - interval '1 minute'");
        long before = logged(a);
        TestDb.run("INSERT INTO " + a.schema() + ".t VALUES (2)");
        TestDb.run("INSERT INTO " + b.schema() + ".t VALUES (2)");
        assertEquals(before, logged(a), "a writer past the deadline logs nothing");
        given().get(Api.BASE + "/" + a.id() + "/change-tracking").then().statusCode(200)
                .body("neverSkipped", containsString("change capture stopped"));
        // the change is not lost: the view is refreshed in full, not skipped
        assertNull(refresh(a.id()).getString("skipped"));
        assertEquals(2, viewRows(a));

        // a replica comes back: its first compaction records the stop, and does not restart capture
        assertTrue(tracking.heartbeat().await().atMost(WAIT).isPresent());
        given().get("/api/admin/catalog/change-log").then().statusCode(200).body("capturing", equalTo(false))
                .body("stopReason", containsString("max-log-age"));
        TestDb.run("INSERT INTO " + a.schema() + ".t VALUES (3)");
        assertEquals(before, logged(a), "still stopped");

        // tracking turned on again (for a): capture runs, a's next refresh is full, then skips resume
        track(a.id());
        given().get("/api/admin/catalog/change-log").then().body("capturing", equalTo(true));
        // the restart emptied the log's file too: the next compaction does not find it over max-log-size
        assertTrue(tracking.heartbeat().await().atMost(WAIT).isEmpty(), "capture keeps running");
        given().get("/api/admin/catalog/change-log").then().body("capturing", equalTo(true));
        TestDb.run("INSERT INTO " + a.schema() + ".t VALUES (4)");
        assertEquals(1, logged(a), "logged again, in a log emptied by the restart");
        assertNull(refresh(a.id()).getString("skipped"));
        assertEquals(4, viewRows(a));
        assertNotNull(refresh(a.id()).getString("skipped"));
        // b missed its changes while capture was stopped: refreshed in full until tracked again
        given().get(Api.BASE + "/" + b.id() + "/change-tracking").then()
                .body("neverSkipped", containsString("was stopped at"));
        assertNull(refresh(b.id()).getString("skipped"));
        assertEquals(2, viewRows(b));
        assertNull(refresh(b.id()).getString("skipped"), "still not skipped: it was not tracked again");
        track(b.id());
        assertNull(refresh(b.id()).getString("skipped"));
        assertNotNull(refresh(b.id()).getString("skipped"));
    }

    @Test
    void pastMaxLogSizeCaptureStopsWithinAFewStatementsAndSaysSo() {
        View a = trackedView();
        tracking.heartbeat().await().atMost(WAIT); // a replica runs, with this profile's 64 KiB bound
        // 3,000 writing statements with no compaction: the 64 KiB log fills after about a thousand
        TestDb.run("DO $$ BEGIN FOR i IN 1..3000 LOOP INSERT INTO " + a.schema() + ".t VALUES (i); END LOOP; END $$");
        long rows = logged(a);
        assertTrue(rows > 500 && rows < 2500, "stopped once over 64 KiB, not at the end: " + rows + " rows");
        given().get("/api/admin/catalog/change-log").then().statusCode(200).body("capturing", equalTo(false))
                .body("stopReason", containsString("max-log-size")).body("maxBytes", equalTo(65536));
        given().get(Api.BASE + "/" + a.id() + "/change-tracking").then()
                .body("neverSkipped", containsString("change capture stopped"));
        assertNull(refresh(a.id()).getString("skipped"));
        assertEquals(3001, viewRows(a));
        // shown in the metrics too
        tracking.heartbeat().await().atMost(WAIT);
        given().get("/q/metrics").then().body(containsString("matviews_change_log_size_bytes"))
                .body(containsString("matviews_change_capture_stopped"));
    }
}
