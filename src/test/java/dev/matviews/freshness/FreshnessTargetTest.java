package dev.matviews.freshness;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Freshness targets (issue 27) on a real database with the service's own scheduler: the keeper
 * keeps a view's lag under its target while writers write, runs no REFRESH when nothing changed,
 * and refreshes what a view reads first, so its data timestamp is never later than theirs.
 */
@QuarkusTest
class FreshnessTargetTest {

    static final String ROLE = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
    /** How far past its target a lag may go here: a pass's timer, a worker taking the job, the refresh. */
    static final double TOLERANCE_SECONDS = 0.5;

    private static String schema() {
        String schema = TestDb.uniqueName("fresh");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + ROLE);
        return schema;
    }

    private static String register(String schema, String view, String targetLag) {
        String body = "{\"schema\":\"" + schema + "\",\"viewName\":\"" + view + "\",\"skipUnchanged\":true"
                + (targetLag == null ? "" : ",\"targetLag\":\"" + targetLag + "\"") + "}";
        String id = given().contentType(ContentType.JSON).body(body).post(Api.BASE).then().statusCode(201)
                .extract().path("id");
        given().post(Api.BASE + "/" + id + "/change-tracking").then().statusCode(200);
        return id;
    }

    private static Connection connect() throws SQLException {
        var config = ConfigProvider.getConfig();
        Properties props = new Properties();
        props.setProperty("user", ROLE);
        props.setProperty("password", config.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
        return DriverManager.getConnection(config.getValue("quarkus.datasource.jdbc.url", String.class), props);
    }

    /** Waits for the keeper's first refresh of a new registration; says what the keeper saw if it does not come. */
    private static void firstRefresh(String id) {
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> successfulRuns(id) > 0);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no refresh of " + id + ": " + seen(id), e);
        }
    }

    /** What the keeper and the workers did for a registration, for a failure's message. */
    private static String seen(String id) {
        return "registration " + TestDb.string("SELECT row_to_json(r)::text"
                    + " FROM _ayb_matview_refreshes r WHERE id = '" + id + "'") + "; jobs " + TestDb.string(
                    "SELECT coalesce(json_agg(j)::text, '[]') FROM _ayb_jobs j WHERE payload ->> 'target' = '" + id + "'")
                    + "; runs " + TestDb.string("SELECT coalesce(json_agg(r)::text, '[]') FROM _ayb_matview_refresh_runs r"
                    + " WHERE registration_id = '" + id + "'") + "; all live jobs " + TestDb.string(
                    "SELECT coalesce(json_agg(j)::text, '[]') FROM _ayb_jobs j WHERE state IN ('queued', 'running')")
                    + "; sessions " + TestDb.string("SELECT coalesce(json_agg(json_build_object('pid', a.pid, 'state', a.state,"
                    + " 'xact_start', a.xact_start, 'query', left(a.query, 200), 'app', a.application_name))::text, '[]')"
                    + " FROM pg_stat_activity a WHERE a.state <> 'idle' AND a.pid <> pg_backend_pid()");
    }

    /**
     * Runs {@code sample} every {@code every} for {@code span} (Awaitility, no sleeping loop); its
     * assertions are on what it accumulated, so a violation once seen fails the wait.
     */
    private static void throughout(Duration span, Duration every, org.awaitility.core.ThrowingRunnable sample) {
        await().pollDelay(Duration.ZERO).pollInterval(every).during(span).atMost(span.plusSeconds(5)).untilAsserted(sample);
    }

    /** A writer inserting ids 1, 2, ... into schema.t, pausing between writes as a load would. */
    private static final class Inserter extends Thread {
        private final AtomicBoolean writing = new AtomicBoolean(true);
        private final String schema;
        private final int pauseMs;
        private final int jitterMs;

        Inserter(String schema, int pauseMs, int jitterMs) {
            this.schema = schema;
            this.pauseMs = pauseMs;
            this.jitterMs = jitterMs;
        }

        @Override
        public void run() {
            try (Connection conn = connect(); Statement st = conn.createStatement()) {
                for (long next = 1; writing.get(); next++) {
                    st.execute("INSERT INTO " + schema + ".t VALUES (" + next + ")");
                    // the load's pacing, not a wait for a condition
                    Thread.sleep(pauseMs + ThreadLocalRandom.current().nextInt(jitterMs));
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        void finish() throws InterruptedException {
            writing.set(false);
            join();
        }
    }

    private static long successfulRuns(String id) {
        return TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + id
                + "' AND status = 'success'");
    }

    @Test
    void aTargetIsValidatedNormalizedAndCleared() {
        String schema = schema();
        TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".v AS SELECT 1 AS x");
        String id = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + schema + "\",\"viewName\":\"v\",\"targetLag\":\"5m\"}")
                .post(Api.BASE).then().statusCode(201).body("targetLag", equalTo("PT5M"))
                .body("dataTimestamp", nullValue()).body("lagSeconds", nullValue()).extract().path("id");
        for (String[] given : new String[][]{{"PT90S", "PT1M30S"}, {"1h30m", "PT1H30M"}, {"2d", "PT48H"},
                {"45s", "PT45S"}, {"DOWNSTREAM", "downstream"}, {"pt10m", "PT10M"}}) {
            given().contentType(ContentType.JSON).body("{\"targetLag\":\"" + given[0] + "\"}").put(Api.BASE + "/" + id)
                    .then().statusCode(200).body("targetLag", equalTo(given[1]));
        }
        for (String bad : new String[]{"\"5 minutes\"", "\"0s\"", "\"PT0.5S\"", "\"367d\"", "\"\"", "\"-5m\"",
                "\"P1Y\"", "12", "true", "{}"}) {
            given().contentType(ContentType.JSON).body("{\"targetLag\":" + bad + "}").put(Api.BASE + "/" + id)
                    .then().statusCode(400).contentType("application/problem+json");
            Api.get(id).body("targetLag", equalTo("PT10M"));
        }
        given().contentType(ContentType.JSON).body("{\"targetLag\":null}").put(Api.BASE + "/" + id)
                .then().statusCode(200).body("targetLag", nullValue());
        Api.refresh(id).statusCode(200);
        Api.get(id).body("dataTimestamp", notNullValue()).body("lagSeconds", notNullValue());
    }

    /**
     * Random writes for 12 s to a view with a 3 s target: sampled every 50 ms, its lag never passes the
     * target (plus tolerance), and its data timestamp never claims a write its contents lack: every
     * write committed before the data timestamp is in the view (both read in one snapshot).
     */
    @Test
    void aThreeSecondTargetIsKeptUnderRandomWrites() throws Exception {
        String schema = schema();
        TestDb.run("CREATE TABLE " + schema + ".t (id bigint PRIMARY KEY, v int NOT NULL);"
                + " INSERT INTO " + schema + ".t VALUES (0, 0);"
                + " CREATE MATERIALIZED VIEW " + schema + ".mv AS SELECT count(*) AS n, max(id) AS last_id, sum(v) AS total"
                + " FROM " + schema + ".t");
        String id = register(schema, "mv", "3s");
        // writes committed, with the database time just after each commit
        ConcurrentLinkedQueue<long[]> committed = new ConcurrentLinkedQueue<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            try (Connection c = connect(); Statement st = c.createStatement()) {
                long next = 1;
                while (writing.get()) {
                    st.execute("INSERT INTO " + schema + ".t VALUES (" + next + ", " + ThreadLocalRandom.current().nextInt(100) + ")");
                    try (ResultSet rs = st.executeQuery("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")) {
                        rs.next();
                        committed.add(new long[]{next, rs.getLong(1)});
                    }
                    next++;
                    Thread.sleep(ThreadLocalRandom.current().nextInt(400));
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        double[] maxLag = {0};
        int[] samples = {0};
        List<String> violations = new ArrayList<>();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            // the keeper's first look refreshes the never-refreshed view
            firstRefresh(id);
            throughout(Duration.ofSeconds(12), Duration.ofMillis(50), () -> {
                try (ResultSet rs = st.executeQuery("SELECT r.lag_seconds, (extract(epoch FROM r.data_timestamp) * 1000000)::bigint,"
                        + " (SELECT last_id FROM " + schema + ".mv) FROM _matviews_registrations r WHERE r.id = '" + id + "'")) {
                    rs.next();
                    double lag = rs.getDouble(1);
                    long dataMicros = rs.getLong(2);
                    long lastId = rs.getLong(3);
                    maxLag[0] = Math.max(maxLag[0], lag);
                    for (long[] write : committed) {
                        if (write[1] < dataMicros && write[0] > lastId) {
                            violations.add("write " + write[0] + " committed before the data timestamp but the view's last id is "
                                    + lastId);
                        }
                    }
                }
                samples[0]++;
                assertTrue(violations.isEmpty(), violations.toString());
                assertTrue(maxLag[0] <= 3 + TOLERANCE_SECONDS, "lag reached " + maxLag[0] + " s over " + samples[0] + " samples");
            });
        } finally {
            writing.set(false);
            writer.join();
        }
        assertTrue(violations.isEmpty(), violations.toString());
        assertTrue(maxLag[0] <= 3 + TOLERANCE_SECONDS, "lag reached " + maxLag[0] + " s over " + samples[0] + " samples");
        assertTrue(committed.size() > 30, "the writer wrote " + committed.size() + " rows");
        // it refreshed as the writes asked, not on every pass: each refresh stood for several writes
        long refreshes = successfulRuns(id);
        assertTrue(refreshes >= 3 && refreshes < committed.size(), refreshes + " refreshes for " + committed.size() + " writes");
    }

    /** With change tracking and no writes, checks keep the lag well under the target and no REFRESH runs. */
    @Test
    void noWritesNoRefreshAndTheLagStaysLow() throws Exception {
        String schema = schema();
        TestDb.run("CREATE TABLE " + schema + ".t (id int); INSERT INTO " + schema + ".t VALUES (1);"
                + " CREATE MATERIALIZED VIEW " + schema + ".mv AS SELECT count(*) AS n FROM " + schema + ".t");
        // tracked before its first refresh, so that refresh is one a check can compare with
        String id = register(schema, "mv", null);
        Api.refresh(id).statusCode(200);
        given().contentType(ContentType.JSON).body("{\"targetLag\":\"2s\"}").put(Api.BASE + "/" + id).then().statusCode(200);
        long runsBefore = TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + id + "'");
        double[] maxLag = {0};
        try (Connection c = connect(); Statement st = c.createStatement()) {
            throughout(Duration.ofSeconds(8), Duration.ofMillis(50), () -> {
                try (ResultSet rs = st.executeQuery("SELECT lag_seconds FROM _matviews_registrations WHERE id = '" + id + "'")) {
                    rs.next();
                    maxLag[0] = Math.max(maxLag[0], rs.getDouble(1));
                }
                assertTrue(maxLag[0] <= 1.0 + TOLERANCE_SECONDS, "lag reached " + maxLag[0]);
            });
        }
        assertEquals(runsBefore, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                + id + "'"), "no refresh and no run record: the checks move the data timestamp on their own");
        assertTrue(maxLag[0] <= 1.0 + TOLERANCE_SECONDS, "an unchanged view is checked at least every half target; lag reached "
                + maxLag[0]);
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE payload ->> 'target' = '" + id
                + "' AND state = 'completed' AND created_at > now() - interval '8 seconds'"), "no job was queued for it");
    }

    /**
     * A &lt;- B &lt;- C, a target on C only, A and B downstream: writes under A are brought to C by one
     * cascade each time, A then B then C, and C's data timestamp is never later than A's.
     */
    @Test
    void aChainIsRefreshedFromItsRootAndMeasuredFromIt() throws Exception {
        String schema = schema();
        TestDb.run("CREATE TABLE " + schema + ".t (id bigint PRIMARY KEY); INSERT INTO " + schema + ".t VALUES (0);"
                + " CREATE MATERIALIZED VIEW " + schema + ".a AS SELECT max(id) AS last_id FROM " + schema + ".t;"
                + " CREATE MATERIALIZED VIEW " + schema + ".b AS SELECT last_id FROM " + schema + ".a;"
                + " CREATE MATERIALIZED VIEW " + schema + ".c AS SELECT last_id FROM " + schema + ".b");
        String a = register(schema, "a", "downstream");
        String b = register(schema, "b", "downstream");
        String c = register(schema, "c", "3s");
        firstRefresh(c);
        Inserter writer = new Inserter(schema, 200, 300);
        writer.start();
        double[] maxLag = {0};
        List<String> violations = new ArrayList<>();
        try (Connection conn = connect(); Statement st = conn.createStatement()) {
            throughout(Duration.ofSeconds(10), Duration.ofMillis(50), () -> {
                try (ResultSet rs = st.executeQuery("SELECT rc.lag_seconds, rc.data_timestamp, ra.data_timestamp,"
                        + " rb.data_timestamp FROM _matviews_registrations rc, _matviews_registrations ra, _matviews_registrations rb"
                        + " WHERE rc.id = '" + c + "' AND ra.id = '" + a + "' AND rb.id = '" + b + "'")) {
                    rs.next();
                    maxLag[0] = Math.max(maxLag[0], rs.getDouble(1));
                    Timestamp dc = rs.getTimestamp(2);
                    Timestamp da = rs.getTimestamp(3);
                    Timestamp db = rs.getTimestamp(4);
                    if (dc.after(da) || dc.after(db) || db.after(da)) {
                        violations.add("C " + dc + ", B " + db + ", A " + da);
                    }
                }
                assertTrue(violations.isEmpty(), violations.toString());
                assertTrue(maxLag[0] <= 3 + TOLERANCE_SECONDS, "C's lag reached " + maxLag[0]);
            });
        } finally {
            writer.finish();
        }
        assertTrue(violations.isEmpty(), violations.toString());
        assertTrue(maxLag[0] <= 3 + TOLERANCE_SECONDS, "C's lag reached " + maxLag[0]);
        // every refresh of C came after A's and B's, in one cascade queued for C
        try (TestDb db = TestDb.open()) {
            long cascades = TestDb.count("SELECT count(DISTINCT cascade_id) FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                    + c + "' AND status = 'success' AND cascade_id IS NOT NULL");
            assertTrue(cascades >= 3, cascades + " cascades refreshed C");
            assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs rc"
                    + " WHERE rc.registration_id = '" + c + "' AND rc.status = 'success' AND rc.cascade_id IS NOT NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM _ayb_matview_refresh_runs ra, _ayb_matview_refresh_runs rb"
                    + "   WHERE ra.cascade_id = rc.cascade_id AND rb.cascade_id = rc.cascade_id"
                    + "     AND ra.registration_id = '" + a + "' AND rb.registration_id = '" + b + "'"
                    + "     AND ra.finished_at <= rb.started_at AND rb.finished_at <= rc.started_at)"),
                    "each cascade refreshed A, then B, then C");
            assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE payload ->> 'target' IN ('" + a + "', '" + b + "')"),
                    "downstream views have no refresh of their own");
        }
    }

    /**
     * A source read by a view with a 2 s target and one with a 12 s target: the 2 s reader's
     * cascades keep it at most about 1.5 s old, so the 12 s reader reads it as it is (its data is
     * within a quarter of that target) instead of refreshing it again for its own deadline.
     */
    @Test
    void aSourceSharedByTwoTargetsIsRefreshedForTheTighterOnly() throws Exception {
        String schema = schema();
        TestDb.run("CREATE TABLE " + schema + ".t (id bigint PRIMARY KEY); INSERT INTO " + schema + ".t VALUES (0);"
                + " CREATE MATERIALIZED VIEW " + schema + ".s AS SELECT max(id) AS last_id FROM " + schema + ".t;"
                + " CREATE MATERIALIZED VIEW " + schema + ".fast AS SELECT last_id FROM " + schema + ".s;"
                + " CREATE MATERIALIZED VIEW " + schema + ".slow AS SELECT last_id FROM " + schema + ".s");
        String s = register(schema, "s", "downstream");
        String fast = register(schema, "fast", "2s");
        String slow = register(schema, "slow", "12s");
        firstRefresh(fast);
        firstRefresh(slow);
        Inserter writer = new Inserter(schema, 100, 200);
        String since = TestDb.string("SELECT clock_timestamp()::text");
        String slowRefreshes = "SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + slow
                + "' AND status = 'success' AND started_at > '" + since + "'";
        writer.start();
        double[] maxLag = {0, 0};
        try (Connection conn = connect(); Statement st = conn.createStatement()) {
            // until the slow reader was refreshed twice while the writer wrote (about 20 s)
            await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(45)).until(() -> {
                try (ResultSet rs = st.executeQuery("SELECT f.lag_seconds, w.lag_seconds FROM _matviews_registrations f,"
                        + " _matviews_registrations w WHERE f.id = '" + fast + "' AND w.id = '" + slow + "'")) {
                    rs.next();
                    maxLag[0] = Math.max(maxLag[0], rs.getDouble(1));
                    maxLag[1] = Math.max(maxLag[1], rs.getDouble(2));
                }
                return TestDb.count(slowRefreshes) >= 2;
            });
        } finally {
            writer.finish();
        }
        assertTrue(maxLag[0] <= 2 + TOLERANCE_SECONDS, "fast's lag reached " + maxLag[0]);
        assertTrue(maxLag[1] <= 12 + TOLERANCE_SECONDS, "slow's lag reached " + maxLag[1]);
        String byRoot = "SELECT count(*) FROM _ayb_matview_refresh_runs run JOIN _matviews_cascades c ON c.id = run.cascade_id"
                + " WHERE run.registration_id = '" + s + "' AND run.status = 'success' AND run.started_at > '" + since + "'"
                + " AND c.root_registration_id = ";
        assertTrue(TestDb.count(byRoot + "'" + fast + "'") >= 5, "the 2 s reader's cascades refreshed the source");
        assertEquals(0, TestDb.count(byRoot + "'" + slow + "'"),
                "the 12 s reader read the source as the 2 s reader's cascades left it; its cascades: " + TestDb.string(
                        "SELECT json_agg(c.nodes)::text FROM _matviews_cascades c WHERE c.root_registration_id = '" + slow + "'"));
        for (String reader : List.of(fast, slow)) {
            given().contentType(ContentType.JSON).body("{\"targetLag\": null}").put(Api.BASE + "/" + reader).then().statusCode(200);
        }
    }

    /**
     * Faults under a 3 s target: a keeper pass killed while it holds the baton (blocked on a
     * registration row this test locks), then two of the view's refreshes killed mid-REFRESH. The
     * killed pass changes nothing, the killed refreshes are recorded failed and tried again with
     * backoff, never two refresh jobs of the view at once, and once the faults stop the target is
     * kept again, nothing suspended, no advisory lock left.
     */
    @Test
    void aTargetIsKeptAgainAfterTheKeeperAndItsRefreshesAreKilled() throws Exception {
        String schema = schema();
        TestDb.run("CREATE TABLE " + schema + ".t (id bigint PRIMARY KEY); INSERT INTO " + schema + ".t VALUES (0);"
                + " CREATE MATERIALIZED VIEW " + schema + ".mv AS SELECT max(id) AS last_id,"
                + " (SELECT sum(g) FROM generate_series(1, 3000000) g) AS work FROM " + schema + ".t");
        String id = register(schema, "mv", "3s");
        firstRefresh(id);
        Inserter writer = new Inserter(schema, 100, 200);
        String liveJobs = "SELECT count(*) FROM _ayb_jobs WHERE payload ->> 'target' = '" + id
                + "' AND state IN ('queued', 'running')";
        long[] mostLiveJobs = {0};
        writer.start();
        try (TestDb holder = TestDb.openAsSuperuser()) {
            // 1. the keeper's pass blocks on the view's registration row, holding the baton: killed there
            holder.exec("BEGIN");
            holder.exec("SELECT 1 FROM _ayb_matview_refreshes WHERE id = '" + id + "' FOR UPDATE");
            String blockedKeeper = "SELECT pid FROM pg_stat_activity WHERE query LIKE '%_matviews_keep_targets(%'"
                    + " AND state = 'active' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() LIMIT 1";
            await().atMost(Duration.ofSeconds(10)).until(() -> !TestDb.string("SELECT coalesce((" + blockedKeeper + ")::text, '')").isEmpty());
            TestDb.runAsSuperuser("SELECT pg_terminate_backend((" + blockedKeeper + "))");
            holder.exec("ROLLBACK");
            // 2. two of its refreshes killed mid-REFRESH
            String refreshing = "SELECT pid FROM pg_stat_activity WHERE query ILIKE '%REFRESH MATERIALIZED VIEW %" + schema
                    + "%' AND state = 'active' AND pid <> pg_backend_pid() LIMIT 1";
            for (int kill = 0; kill < 2; kill++) {
                try {
                    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20)).until(() -> {
                        mostLiveJobs[0] = Math.max(mostLiveJobs[0], TestDb.count(liveJobs));
                        return !TestDb.string("SELECT coalesce((" + refreshing + ")::text, '')").isEmpty();
                    });
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError("no refresh to kill (" + kill + " killed): " + seen(id), e);
                }
                TestDb.runAsSuperuser("SELECT pg_terminate_backend((" + refreshing + "))");
            }
            // 3. the faults stop: a success resets the failures, and the target is kept again
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                mostLiveJobs[0] = Math.max(mostLiveJobs[0], TestDb.count(liveJobs));
                return TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes WHERE id = '" + id
                        + "' AND consecutive_failures = 0 AND last_refresh_status = 'success'") == 1;
            });
            assertTrue(TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + id
                    + "' AND status = 'error'") >= 2, "the killed refreshes are recorded failed");
            double[] maxLag = {0};
            throughout(Duration.ofSeconds(6), Duration.ofMillis(50), () -> {
                maxLag[0] = Math.max(maxLag[0], Double.parseDouble(TestDb.string(
                        "SELECT coalesce(lag_seconds, 1e9)::text FROM _matviews_registrations WHERE id = '" + id + "'")));
                mostLiveJobs[0] = Math.max(mostLiveJobs[0], TestDb.count(liveJobs));
                assertTrue(maxLag[0] <= 3 + TOLERANCE_SECONDS, "lag reached " + maxLag[0] + " after the faults");
            });
        } finally {
            writer.finish();
        }
        assertTrue(mostLiveJobs[0] <= 1, mostLiveJobs[0] + " refresh jobs of the view at once");
        Api.get(id).body("suspended", equalTo(false));
        // no target, no more jobs: nothing left holding a lock, no run left running
        given().contentType(ContentType.JSON).body("{\"targetLag\": null}").put(Api.BASE + "/" + id).then().statusCode(200);
        await().atMost(Duration.ofSeconds(15)).until(() -> TestDb.count(liveJobs) == 0);
        assertEquals(0, TestDb.ourAdvisoryLocks());
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + id
                + "' AND status = 'running'"));
    }

    @jakarta.inject.Inject
    TargetRepository targets;
    @jakarta.inject.Inject
    io.vertx.mutiny.sqlclient.Pool pool;

    /** Three replicas' keepers at once, again and again: each due view gets one refresh job, never two. */
    @Test
    void threeKeepersAtOnceQueueOneRefreshPerDueView() throws Exception {
        String schema = schema();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".v" + i + " AS SELECT " + i + " AS x");
            ids.add(given().contentType(ContentType.JSON).body("{\"schema\":\"" + schema + "\",\"viewName\":\"v" + i
                    + "\",\"targetLag\":\"1h\"}").post(Api.BASE).then().statusCode(201).extract().<String>path("id"));
        }
        int held = 0;
        // the service's own keeper takes the baton too: rounds go on until five of these passes held it
        for (int round = 0; round < 200 && held < 5; round++) {
            List<java.util.concurrent.CompletableFuture<TargetRepository.Pass>> passes = new ArrayList<>();
            for (int replica = 0; replica < 3; replica++) {
                passes.add(targets.keep(pool).subscribeAsCompletionStage());
            }
            for (var pass : passes) {
                held += pass.get(10, java.util.concurrent.TimeUnit.SECONDS).held() ? 1 : 0;
            }
        }
        assertTrue(held >= 5, "a pass at a time held the baton: " + held);
        for (String id : ids) {
            await().atMost(Duration.ofSeconds(20)).until(() -> successfulRuns(id) == 1);
        }
        for (String id : ids) {
            assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE payload ->> 'target' = '" + id + "'"),
                    "one job for the view's one due time");
        }
    }

    /**
     * More work than workers: twelve views whose refresh takes 1.5 s with 2 s targets, on four
     * workers. Targets are missed, each with its reason (on the registration, its run, the metric,
     * an alert), and the queue never holds more than one refresh per view.
     */
    @Test
    void overloadRecordsMissedTargetsInsteadOfPilingRefreshesUp() throws Exception {
        String schema = schema();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".slow" + i + " AS SELECT " + i + " AS x FROM pg_sleep(1.5)");
            ids.add(given().contentType(ContentType.JSON).body("{\"schema\":\"" + schema + "\",\"viewName\":\"slow" + i
                    + "\",\"targetLag\":\"2s\"}").post(Api.BASE).then().statusCode(201).extract().<String>path("id"));
        }
        String inList = "('" + String.join("', '", ids) + "')";
        long[] most = {0};
        try {
            throughout(Duration.ofSeconds(15), Duration.ofMillis(100), () -> {
                most[0] = Math.max(most[0], TestDb.count("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM _ayb_jobs"
                        + " WHERE payload ->> 'target' IN " + inList + " AND state IN ('queued', 'running')"
                        + " GROUP BY payload ->> 'target') per_view"));
                assertTrue(most[0] <= 1, "at most one pending or running refresh per view: " + most[0]);
            });
            assertEquals(1, most[0], "at most one pending or running refresh per view");
            long missed = TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes WHERE id::text IN " + inList
                    + " AND target_missed_at IS NOT NULL");
            assertTrue(missed >= 3, missed + " of 12 views recorded a missed target");
            String reasons = TestDb.string("SELECT string_agg(DISTINCT target_missed_reason, ', ') FROM _ayb_matview_refreshes"
                    + " WHERE id::text IN " + inList);
            assertTrue(reasons.matches("(workers busy|predicted duration above the target|refresh took longer than predicted"
                    + "|scheduler late)(, .*)?"), reasons);
            assertTrue(TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id::text IN " + inList
                    + " AND target_missed IS NOT NULL") > 0, "runs carry the miss");
            assertTrue(TestDb.count("SELECT count(*) FROM _matviews_alerts WHERE event = 'target-missed'"
                    + " AND registration_id::text IN " + inList) >= missed, "an alert per miss");
            String metrics = given().get("/q/metrics").then().extract().asString();
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("matviews_target_missed_total{") && !l.endsWith(" 0.0")),
                    "the metric counts them");
        } finally {
            for (String id : ids) {
                given().contentType(ContentType.JSON).body("{\"targetLag\":null}").put(Api.BASE + "/" + id).then().statusCode(200);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE"
                    + " payload ->> 'target' IN " + inList + " AND state IN ('queued', 'running')") == 0);
        }
    }
}
