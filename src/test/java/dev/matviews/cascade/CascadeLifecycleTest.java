package dev.matviews.cascade;

import dev.matviews.support.Api;
import dev.matviews.support.SseClient;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cascade's life beyond its plan (issue 14): its events on the stream, a cancel that its
 * coordinator learns of only from the database, the loss of its coordinator, retention, a caller
 * that goes away, schedules that cascade, and refresh-all over one schema. The views form a chain
 * {@code p -> q -> r} of about 300 ms each, and {@code solo} beside it.
 */
@QuarkusTest
class CascadeLifecycleTest {

    static final String S = "casl_" + Long.toHexString(System.nanoTime());
    static final Map<String, String> IDS = new HashMap<>();
    static final Duration WAIT = Duration.ofSeconds(30);

    @TestHTTPResource("/api/admin/matviews/events")
    URI events;

    @Inject
    CascadeService cascades;

    @BeforeAll
    static void build() {
        String role = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
        TestDb.runAsSuperuser("CREATE SCHEMA " + S + " AUTHORIZATION " + role);
        String slow = ", (SELECT 1 FROM pg_sleep(0.3)) s";
        TestDb.run("CREATE TABLE " + S + ".t (id int PRIMARY KEY); INSERT INTO " + S + ".t VALUES (1), (2);"
                + " CREATE MATERIALIZED VIEW " + S + ".p AS SELECT t.id FROM " + S + ".t" + slow + ";"
                + " CREATE MATERIALIZED VIEW " + S + ".q AS SELECT p.id FROM " + S + ".p" + slow + ";"
                + " CREATE MATERIALIZED VIEW " + S + ".r AS SELECT q.id FROM " + S + ".q" + slow + ";"
                + " CREATE MATERIALIZED VIEW " + S + ".solo AS SELECT 1 AS id;"
                + " CREATE MATERIALIZED VIEW " + S + ".two AS SELECT t.id FROM " + S + ".t, (SELECT 1 FROM pg_sleep(2)) s;"
                + " CREATE MATERIALIZED VIEW " + S + ".after_two AS SELECT id FROM " + S + ".two;"
                + " CREATE MATERIALIZED VIEW " + S + ".after_after_two AS SELECT id FROM " + S + ".after_two;"
                // Slow enough to be cancelled while it runs.
                + " CREATE MATERIALIZED VIEW " + S + ".long AS SELECT 1 AS id FROM pg_sleep(30) WITH NO DATA;"
                + " CREATE MATERIALIZED VIEW " + S + ".after_long AS SELECT id FROM " + S + ".long WITH NO DATA;");
    }

    @BeforeEach
    void register() {
        if (IDS.isEmpty()) {
            for (String v : List.of("p", "q", "r", "solo")) {
                IDS.put(v, Api.register(S, v, "standard"));
            }
        }
    }

    @AfterAll
    static void unregister() {
        TestDb.run("DELETE FROM _ayb_job_schedules WHERE payload->>'schema' = '" + S + "';"
                + " DELETE FROM _ayb_matview_refreshes WHERE schema_name = '" + S + "'");
    }

    private static String query(String sql) {
        try (TestDb db = TestDb.open()) {
            return db.queryString(sql);
        }
    }

    private static long runningRuns(String registrationId) {
        return TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                + registrationId + "' AND status = 'running'");
    }

    private static Map<String, JsonPath> nodes(JsonPath cascade) {
        Map<String, JsonPath> byView = new HashMap<>();
        List<String> views = cascade.getList("nodes.viewName");
        for (int i = 0; i < views.size(); i++) {
            byView.put(views.get(i), JsonPath.from(cascade.prettify()).setRootPath("nodes[" + i + "]"));
        }
        return byView;
    }

    private static JsonPath cascade(String id) {
        return given().get("/api/admin/cascades/" + id).then().statusCode(200).extract().jsonPath();
    }

    private static JsonPath ended(String id) {
        await().atMost(WAIT).until(() -> !"running".equals(cascade(id).getString("status")));
        return cascade(id);
    }

    private static String startAsync(String view) {
        return given().queryParam("async", "true").post(Api.BASE + "/" + IDS.get(view) + "/refresh?cascade=downstream")
                .then().statusCode(202).extract().path("id");
    }

    /** A cascade row as another replica would have written it, with the given lease and status. */
    private static String insertCascade(String status, String lease, String finished) {
        String nodes = "[{\"registrationId\":\"" + IDS.get("p") + "\",\"schemaName\":\"" + S
                + "\",\"viewName\":\"p\",\"after\":[]}]";
        return query("INSERT INTO _matviews_cascades (direction, root_registration_id, trigger,"
                + " instance_id, parallelism, on_busy, nodes, status, lease_until, started_at, finished_at)"
                + " VALUES ('downstream', '" + IDS.get("p") + "', 'manual', 'gone-replica', 1, 'wait', '" + nodes
                + "', '" + status + "', " + lease + ", " + (finished == null ? "clock_timestamp()" : finished + " - interval '1 minute'")
                + ", " + (finished == null ? "NULL" : finished) + ") RETURNING id");
    }

    @Test
    void aCascadeIsAnnouncedWhenItStartsAndEndsAndAResumedStreamGetsItOnceInItsLatestState() throws Exception {
        String cascadeId;
        String startedEventId;
        List<SseClient.Event> seen = new ArrayList<>();
        try (SseClient sse = new SseClient(events, null)) {
            await().atMost(WAIT).until(sse::connected);
            cascadeId = given().post(Api.BASE + "/" + IDS.get("p") + "/refresh?cascade=downstream")
                    .then().statusCode(200).body("status", equalTo("success")).extract().path("id");
            SseClient.Event event;
            do {
                event = sse.next(cascadeId, WAIT);
                seen.add(event);
            } while (!"cascade-finished".equals(event.name()));
        }
        SseClient.Event started = seen.get(0);
        assertEquals("cascade-started", started.name(), "the cascade is announced before its nodes: " + seen);
        assertTrue(started.data().contains("\"status\":\"running\"") && started.data().contains("\"nodeCount\":3"),
                started.data());
        startedEventId = started.id();
        SseClient.Event finished = seen.get(seen.size() - 1);
        assertTrue(finished.data().contains("\"status\":\"success\""), finished.data());
        long nodeRunsFinished = seen.stream().filter(e -> e.name().equals("run-finished")
                && e.data().contains("\"cascadeId\":\"" + cascadeId + "\"")).count();
        assertEquals(3, nodeRunsFinished, "each node's run ended before the cascade did: " + seen);
        assertTrue(Long.parseLong(finished.id()) > Long.parseLong(started.id()));

        // Resumed from its start: the cascade arrives once, as finished, among its nodes' runs.
        List<SseClient.Event> replayed = new ArrayList<>();
        try (SseClient resumed = new SseClient(events, startedEventId)) {
            SseClient.Event event;
            do {
                event = resumed.next(cascadeId, WAIT);
                replayed.add(event);
            } while (!"cascade-finished".equals(event.name()));
        }
        assertTrue(replayed.stream().noneMatch(e -> e.name().equals("cascade-started")), replayed.toString());
        assertTrue(replayed.get(replayed.size() - 1).data().contains("\"status\":\"success\""), replayed.toString());
    }

    @Test
    void aCancelMarkedWhileNoNodeOfItWasSeenRunningStillStopsTheNextNode() {
        Map<String, String> ids = new HashMap<>();
        for (String v : List.of("two", "after_two", "after_after_two")) {
            ids.put(v, Api.register(S, v, "standard"));
        }
        try {
            String id = given().queryParam("async", "true").post(Api.BASE + "/" + ids.get("two")
                    + "/refresh?cascade=downstream").then().statusCode(202).extract().path("id");
            // REFRESH itself has begun (a mark before that stops this node too, as it should).
            await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                    + " AND pid <> pg_backend_pid() AND query LIKE '%REFRESH MATERIALIZED VIEW \"" + S + "\".\"two\";%'") == 1);
            // What a replica's cancel does when it reads the nodes between two of them: it marks the
            // cascade, and finds no running node to cancel.
            TestDb.run("UPDATE _matviews_cascades SET cancel_requested_at = clock_timestamp() WHERE id = '" + id + "'");
            JsonPath ended = ended(id);
            assertEquals("cancelled", ended.getString("status"), ended.prettify());
            Map<String, JsonPath> nodes = nodes(ended);
            // The coordinator's periodic lease renewal (every lease / 3) also reads the mark; when one
            // falls inside the 2 s of "two", it cancels that running node, as it should. Otherwise
            // nobody cancels it, and the next node must stop itself at its start.
            String two = nodes.get("two").getString("status");
            assertTrue(two.equals("success") || two.equals("cancelled"), ended.prettify());
            assertNotEquals("success", nodes.get("after_two").getString("status"),
                    "the next node started after the mark and stopped itself: " + ended.prettify()
                    + query("SELECT cancel_requested_at::text FROM _matviews_cascades WHERE id = '" + id + "'"));
            assertEquals("skipped", nodes.get("after_after_two").getString("status"));
            assertEquals(0, TestDb.ourAdvisoryLocks());
        } finally {
            ids.values().forEach(v -> given().delete(Api.BASE + "/" + v));
        }
    }

    @Test
    void aCascadeWhoseInstanceStoppedRenewingItsLeaseIsAbandonedByAnyReplica() throws Exception {
        String lost = insertCascade("running", "clock_timestamp() - interval '1 second'", null);
        String alive = insertCascade("running", "clock_timestamp() + interval '1 hour'", null);
        try (SseClient sse = new SseClient(events, null)) {
            await().atMost(WAIT).until(sse::connected);
            assertTrue(cascades.abandonExpired().await().atMost(WAIT) >= 1);
            SseClient.Event event = sse.next(lost, WAIT);
            assertEquals("cascade-finished", event.name());
            assertTrue(event.data().contains("\"status\":\"abandoned\""), event.data());
        }
        JsonPath abandoned = cascade(lost);
        assertEquals("abandoned", abandoned.getString("status"));
        assertNotNull(abandoned.getString("finishedAt"));
        assertEquals("abandoned", nodes(abandoned).get("p").getString("status"), "a node that never started");
        assertEquals("running", cascade(alive).getString("status"), "a live lease is left alone");
        TestDb.run("DELETE FROM _matviews_cascades WHERE id = '" + alive + "'");
    }

    @Test
    void theCoordinatorRenewsItsLeaseAndStopsStartingNodesOnceItsCascadeWasAbandoned() {
        String longId = Api.register(S, "long", "standard");
        String afterId = Api.register(S, "after_long", "standard");
        try {
            String id = given().queryParam("async", "true").post(Api.BASE + "/" + longId + "/refresh?cascade=downstream")
                    .then().statusCode(202).extract().path("id");
            await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf("long") == 1);
            // As if the lease were about to run out: the coordinator's renewal extends it, so the sweep leaves it.
            TestDb.run("UPDATE _matviews_cascades SET lease_until = clock_timestamp() - interval '1 second'"
                    + " WHERE id = '" + id + "'");
            cascades.renewLeases();
            await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM _matviews_cascades WHERE id = '" + id
                    + "' AND lease_until > clock_timestamp()") == 1);
            cascades.abandonExpired().await().atMost(WAIT);
            assertEquals("running", cascade(id).getString("status"));

            // This instance stalled past its lease and another replica marked the cascade abandoned:
            // the coordinator learns it at its next renewal and starts nothing more.
            TestDb.run("UPDATE _matviews_cascades SET lease_until = clock_timestamp() - interval '1 second'"
                    + " WHERE id = '" + id + "'");
            assertTrue(cascades.abandonExpired().await().atMost(WAIT) >= 1);
            cascades.renewLeases();
            String runOfLong = nodes(cascade(id)).get("long").getString("runId");
            given().post("/api/admin/matview-runs/" + runOfLong + "/cancel").then().statusCode(202);
            await().atMost(WAIT).until(() -> "skipped".equals(nodes(cascade(id)).get("after_long").getString("status")));
            JsonPath ended = cascade(id);
            assertEquals("abandoned", ended.getString("status"), "its coordinator does not overwrite the sweep");
            assertTrue(nodes(ended).get("after_long").getString("error").contains("abandoned"),
                    nodes(ended).get("after_long").getString("error"));
            await().atMost(WAIT).until(() -> TestDb.ourAdvisoryLocks() == 0);
        } finally {
            given().delete(Api.BASE + "/" + longId);
            given().delete(Api.BASE + "/" + afterId);
        }
    }

    @Test
    void retentionDeletesOnlyCascadesThatEndedLongerAgoThanTheMaximumAge() {
        String old1 = insertCascade("success", "NULL", "clock_timestamp() - interval '100 days'");
        String old2 = insertCascade("failed", "NULL", "clock_timestamp() - interval '40 days'");
        String recent = insertCascade("success", "NULL", "clock_timestamp() - interval '1 day'");
        String running = insertCascade("running", "clock_timestamp() + interval '1 hour'", null);
        TestDb.run("UPDATE _matviews_cascades SET started_at = clock_timestamp() - interval '200 days' WHERE id = '"
                + running + "'");
        long deleted = cascades.deleteOlderThan(Duration.ofDays(30), 1).await().atMost(WAIT);
        assertTrue(deleted >= 2, "in batches of one until done: " + deleted);
        given().get("/api/admin/cascades/" + old1).then().statusCode(404);
        given().get("/api/admin/cascades/" + old2).then().statusCode(404);
        cascade(recent);
        assertEquals("running", cascade(running).getString("status"));
        TestDb.run("DELETE FROM _matviews_cascades WHERE id IN ('" + recent + "', '" + running + "')");
    }

    @Test
    void aSynchronousCallerThatGoesAwayCancelsItsCascade() throws Exception {
        String longId = Api.register(S, "long", "standard");
        String afterId = Api.register(S, "after_long", "standard");
        try {
            Socket socket = new Socket("localhost", RestAssured.port);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + Api.BASE + "/" + longId + "/refresh?cascade=downstream HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf("long") == 1);
            String id = query("SELECT cascade_id FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                    + longId + "' AND status = 'running'");
            socket.close();
            JsonPath ended = ended(id);
            assertEquals("cancelled", ended.getString("status"));
            Map<String, JsonPath> nodes = nodes(ended);
            assertEquals("cancelled", nodes.get("long").getString("status"));
            assertEquals("skipped", nodes.get("after_long").getString("status"));
            assertEquals(0, TestDb.runningRefreshesOf("long"));
            assertEquals(0, TestDb.ourAdvisoryLocks());
        } finally {
            given().delete(Api.BASE + "/" + longId);
            given().delete(Api.BASE + "/" + afterId);
        }
    }

    private static String createSchedule(String view, String extraPayload) {
        return given().contentType(ContentType.JSON).body("{\"name\":\"" + TestDb.uniqueName("cascading")
                        + "\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"schema\":\"" + S
                        + "\",\"view_name\":\"" + view + "\"" + extraPayload + "},\"cronExpr\":\"@every 1s\"}")
                .post("/api/admin/schedules").then().statusCode(201).extract().path("id");
    }

    @Test
    void aScheduleWithACascadeInItsPayloadRefreshesTheViewWithItsDependents() {
        String scheduleId = createSchedule("p", ",\"cascade\":\"downstream\",\"parallelism\":2,\"onBusy\":\"skip\"");
        String jobId;
        try {
            await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '"
                    + scheduleId + "' AND state = 'completed'") >= 1);
            jobId = query("SELECT id FROM _ayb_jobs WHERE schedule_id = '" + scheduleId
                    + "' AND state = 'completed' ORDER BY created_at LIMIT 1");
        } finally {
            given().delete("/api/admin/schedules/" + scheduleId).then().statusCode(204);
        }
        String cascadeId = query("SELECT id FROM _matviews_cascades WHERE job_id = '" + jobId + "'");
        JsonPath c = cascade(cascadeId);
        assertEquals("schedule", c.getString("trigger"));
        assertEquals(jobId, c.getString("jobId"));
        assertEquals(2, c.getInt("parallelism"));
        assertEquals("skip", c.getString("onBusy"));
        Map<String, JsonPath> nodes = nodes(c);
        assertEquals(java.util.Set.of("p", "q", "r"), nodes.keySet());
        nodes.values().forEach(n -> assertEquals("success", n.getString("status")));
        given().get("/api/admin/jobs/" + jobId).then().statusCode(200)
                .body("lastRunId", equalTo(nodes.get("p").getString("runId")))
                .body("lastError", containsString("cascade " + cascadeId + " success: 3 of 3"));
    }

    @Test
    void cancellingTheJobOfACascadingScheduleCancelsItsCascade() {
        String longId = Api.register(S, "long", "standard");
        String afterId = Api.register(S, "after_long", "standard");
        // One firing, enqueued as a schedule would, so that no later firing refreshes the view again.
        String jobId = UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_jobs (id, type, payload, max_attempts) VALUES ('" + jobId
                + "', 'materialized_view_refresh', '{\"schema\":\"" + S + "\",\"view_name\":\"long\","
                + "\"cascade\":\"downstream\"}', 1); NOTIFY matviews_scheduler, 'jobs'");
        try {
            await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf("long") == 1);
            String cascadeId = query("SELECT id FROM _matviews_cascades WHERE job_id = '" + jobId + "'");
            given().post("/api/admin/jobs/" + jobId + "/cancel").then().statusCode(200);
            JsonPath ended = ended(cascadeId);
            assertEquals("cancelled", ended.getString("status"));
            assertEquals("skipped", nodes(ended).get("after_long").getString("status"));
            await().atMost(WAIT).until(() -> "canceled".equals(given().get("/api/admin/jobs/" + jobId).then()
                    .extract().path("state")));
            assertEquals(0, TestDb.runningRefreshesOf("long"));
            assertEquals(0, TestDb.ourAdvisoryLocks());
        } finally {
            given().delete(Api.BASE + "/" + longId);
            given().delete(Api.BASE + "/" + afterId);
        }
    }

    @Test
    void aCascadingPayloadThatMakesNoSenseIsRefused() {
        for (String bad : List.of(",\"cascade\":\"sideways\"", ",\"parallelism\":2", ",\"cascade\":\"upstream\",\"parallelism\":0",
                ",\"cascade\":\"downstream\",\"onBusy\":\"maybe\"", ",\"cascade\":\"downstream\",\"parallelism\":1.5",
                ",\"freshAsOf\":\"2026-12-04T10:00:00Z\"", ",\"cascade\":\"downstream\",\"freshAsOf\":\"2026-12-04T10:00:00Z\"",
                ",\"cascade\":\"upstream\",\"freshAsOf\":\"yesterday\"", ",\"cascade\":\"upstream\",\"freshAsOf\":12")) {
            long before = TestDb.count("SELECT count(*) FROM _ayb_job_schedules");
            given().contentType(ContentType.JSON).body("{\"name\":\"" + TestDb.uniqueName("bad")
                            + "\",\"jobType\":\"materialized_view_refresh\",\"payload\":{\"view_name\":\"p\"" + bad
                            + "},\"cronExpr\":\"@every 1m\"}")
                    .post("/api/admin/schedules").then().statusCode(400).contentType("application/problem+json")
                    .body("detail", containsString("payload."));
            assertEquals(before, TestDb.count("SELECT count(*) FROM _ayb_job_schedules"), bad);
        }
    }

    @Test
    void refreshAllOverOneSchemaTakesOnlyItsViewsInGraphOrder() {
        JsonPath all = given().post(Api.BASE + "/refresh-all?schema=" + S + "&parallelism=2")
                .then().statusCode(200).body("status", equalTo("success")).body("schemaName", equalTo(S))
                .extract().jsonPath();
        List<String> order = all.getList("nodes.viewName");
        assertEquals(java.util.Set.of("p", "q", "r", "solo"), new java.util.HashSet<>(order));
        assertTrue(order.indexOf("p") < order.indexOf("q") && order.indexOf("q") < order.indexOf("r"), order.toString());
        given().post(Api.BASE + "/refresh-all?schema=" + "x".repeat(64)).then().statusCode(400)
                .contentType("application/problem+json");
        given().post(Api.BASE + "/refresh-all?schema=nobody_" + UUID.randomUUID().toString().substring(0, 8))
                .then().statusCode(200).body("status", equalTo("success")).body("nodes.size()", equalTo(0));
    }
}
