package dev.matviews.freshness;

import dev.matviews.support.Api;
import dev.matviews.support.SseClient;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Suspension (issue 27, part 4) with the service's own scheduler: five failed scheduled refreshes
 * in a row suspend a view and the registered views that read it; nothing scheduled runs for them
 * then, a manual refresh still does, and resume brings both back. Every step raises its alert in
 * the outbox and on the event stream.
 */
@QuarkusTest
class SuspensionTest {

    static final String ROLE = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);

    @TestHTTPResource("/api/admin/matviews/events")
    URL events;

    private static void scheduledRefresh(String schema, String view) {
        TestDb.run("INSERT INTO _ayb_jobs (type, payload, max_attempts) VALUES ('materialized_view_refresh',"
                + " '{\"schema\": \"" + schema + "\", \"view_name\": \"" + view + "\"}', 1);"
                + " SELECT pg_notify('matviews_scheduler', 'jobs')");
    }

    private static long jobsOf(String view, String state) {
        return TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE payload ->> 'view_name' = '" + view + "' AND state = '"
                + state + "'");
    }

    private static List<String> alerts(String id) {
        return List.of(TestDb.string("SELECT coalesce(string_agg(event, ',' ORDER BY event_id), '') FROM _matviews_alerts"
                + " WHERE registration_id = '" + id + "'").split(","));
    }

    @Test
    void fiveFailedScheduledRefreshesSuspendAViewAndItsReadersUntilResumed() throws Exception {
        String schema = TestDb.uniqueName("susp");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + ROLE);
        TestDb.run("CREATE TABLE " + schema + ".knob (d int); INSERT INTO " + schema + ".knob VALUES (1);"
                + " CREATE MATERIALIZED VIEW " + schema + ".a AS SELECT 1 / (SELECT d FROM " + schema + ".knob) AS x;"
                + " CREATE MATERIALIZED VIEW " + schema + ".b AS SELECT x FROM " + schema + ".a;"
                + " CREATE MATERIALIZED VIEW " + schema + ".other AS SELECT 1 AS y");
        String a = Api.register(schema, "a", "standard");
        String b = Api.register(schema, "b", "standard");
        String other = Api.register(schema, "other", "standard");
        String lastEventId = TestDb.string("SELECT last_value::text FROM _ayb_matview_run_event_seq");

        TestDb.run("UPDATE " + schema + ".knob SET d = 0"); // every refresh of a fails: division by zero
        // a failed manual refresh does not count
        Api.refresh(a).statusCode(org.hamcrest.Matchers.greaterThanOrEqualTo(400));
        Api.get(a).body("consecutiveFailures", equalTo(0));
        for (int i = 1; i <= 5; i++) {
            scheduledRefresh(schema, "a");
            int expected = i;
            await().atMost(Duration.ofSeconds(20)).until(() -> jobsOf("a", "failed") == expected);
            Api.get(a).body("consecutiveFailures", equalTo(i)).body("suspended", equalTo(i == 5));
        }
        Api.get(a).body("suspended", equalTo(true))
                .body("suspendedReason", containsString("5 scheduled refreshes failed in a row"))
                .body("suspendedReason", containsString("division by zero"))
                .body("suspendedBy", equalTo(a));
        Api.get(b).body("suspended", equalTo(true)).body("suspendedBy", equalTo(a))
                .body("suspendedReason", containsString("reads " + schema + ".a, which is suspended"));
        Api.get(other).body("suspended", equalTo(false));
        given().get(Api.BASE + "?suspended=true").then().statusCode(200)
                .body("items.id", hasItem(a)).body("items.id", hasItem(b)).body("items.id", not(hasItem(other)));
        given().get(Api.BASE + "?suspended=false").then().statusCode(200).body("items.id", not(hasItem(a)));
        given().get(Api.BASE + "?suspended=maybe").then().statusCode(400).contentType("application/problem+json");
        assertEquals(List.of("refresh-failed", "refresh-failed", "refresh-failed", "refresh-failed", "refresh-failed",
                "suspended"), alerts(a));
        assertEquals(List.of("suspended"), alerts(b));

        // suspended: a scheduled refresh runs nothing, and records no run
        long runsBefore = TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + a + "'");
        scheduledRefresh(schema, "a");
        await().atMost(Duration.ofSeconds(20)).until(() -> jobsOf("a", "completed") == 1);
        assertTrue(TestDb.string("SELECT last_error FROM _ayb_jobs WHERE payload ->> 'view_name' = 'a' AND state = 'completed'"
                + " AND payload ->> 'schema' = '" + schema + "'").contains("is suspended"));
        assertEquals(runsBefore, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                + a + "'"));
        // a manual refresh still runs; its success resets the count and says it recovered, but does not resume
        TestDb.run("UPDATE " + schema + ".knob SET d = 1");
        Api.refresh(a).statusCode(200);
        Api.get(a).body("consecutiveFailures", equalTo(0)).body("suspended", equalTo(true));
        assertEquals("recovered", alerts(a).get(alerts(a).size() - 1));

        given().post(Api.BASE + "/" + a + "/resume").then().statusCode(200)
                .body("suspended", equalTo(false)).body("suspendedReason", nullValue());
        Api.get(b).body("suspended", equalTo(false)).body("suspendedBy", nullValue());
        given().post(Api.BASE + "/" + UUID.randomUUID() + "/resume").then().statusCode(404)
                .contentType("application/problem+json");
        given().post(Api.BASE + "/not-a-uuid/resume").then().statusCode(400);
        scheduledRefresh(schema, "b");
        await().atMost(Duration.ofSeconds(20)).until(() -> jobsOf("b", "completed") == 1);
        Api.get(b).body("lastRefreshStatus", equalTo("success"));

        // the event stream replays the alerts, in order, with the runs
        try (SseClient stream = new SseClient(URI.create(events.toString()), lastEventId)) {
            SseClient.Event suspended = stream.next("\"event\":\"suspended\"", Duration.ofSeconds(10));
            assertEquals("alert", suspended.name());
            assertTrue(suspended.data().contains("\"registrationId\":\"" + a + "\""), suspended.data());
            SseClient.Event readerSuspended = stream.next("\"event\":\"suspended\"", Duration.ofSeconds(10));
            assertTrue(readerSuspended.data().contains("\"registrationId\":\"" + b + "\""), readerSuspended.data());
            SseClient.Event recovered = stream.next("\"event\":\"recovered\"", Duration.ofSeconds(10));
            assertTrue(Long.parseLong(recovered.id()) > Long.parseLong(readerSuspended.id()));
        }
        given().contentType(ContentType.JSON).get(Api.BASE + "/" + a).then().body("suspendedAt", nullValue());
    }

    /**
     * A reader resumed on its own while its source stays suspended: its scheduled upstream cascade
     * reads the suspended source as it is and refreshes only the reader.
     */
    @Test
    void aScheduledCascadeLeavesASuspendedSourceOut() {
        String schema = TestDb.uniqueName("susp");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + ROLE);
        TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".src AS SELECT 1 AS x;"
                + " CREATE MATERIALIZED VIEW " + schema + ".reader AS SELECT x FROM " + schema + ".src");
        String a = Api.register(schema, "src", "standard");
        String b = Api.register(schema, "reader", "standard");
        TestDb.run("SELECT _matviews_suspend('" + a + "', 'suspended by the test')");
        Api.get(b).body("suspended", equalTo(true));
        given().post(Api.BASE + "/" + b + "/resume").then().statusCode(200).body("suspended", equalTo(false));
        Api.get(a).body("suspended", equalTo(true));
        TestDb.run("INSERT INTO _ayb_jobs (type, payload, max_attempts) VALUES ('materialized_view_refresh',"
                + " '{\"schema\": \"" + schema + "\", \"view_name\": \"reader\", \"cascade\": \"upstream\"}', 1);"
                + " SELECT pg_notify('matviews_scheduler', 'jobs')");
        await().atMost(Duration.ofSeconds(20)).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE payload ->> 'schema' = '"
                + schema + "' AND state = 'completed'") == 1);
        Api.get(b).body("lastRefreshStatus", equalTo("success"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + a + "'"),
                "the suspended source was not refreshed, nor recorded as skipped");
        // a manual cascade still refreshes it
        given().post(Api.BASE + "/" + b + "/refresh?cascade=upstream").then().statusCode(200).body("status", equalTo("success"));
        assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + a
                + "' AND status = 'success'"));
    }
}
