package dev.matviews.tracking;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * skipUnchanged on a real database (issue 15): a refresh is skipped only when no committed change
 * of any source table, however it is reached, is missing from the view. Each test has its own
 * schema: tables {@code a}, {@code b}, {@code c}, a plain view {@code pv} over {@code c}, and the
 * materialized view {@code mv} over all three.
 */
@QuarkusTest
class SkipUnchangedTest {

    @jakarta.inject.Inject
    ChangeTrackingService tracking;

    static final String ROLE = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);

    private record Fixture(String schema, String id, String query) {
        String mv() {
            return schema + ".mv";
        }
    }

    @BeforeAll
    static void nothing() {
    }

    private static String query(String schema) {
        return "SELECT a.k, a.v + coalesce(b.w, 0) AS total, (SELECT count(*) FROM " + schema + ".pv) AS cs"
                + " FROM " + schema + ".a LEFT JOIN " + schema + ".b USING (k)";
    }

    private static Fixture fixture() {
        String schema = TestDb.uniqueName("skip");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + ROLE);
        TestDb.run("CREATE TABLE " + schema + ".a (k int PRIMARY KEY, v int NOT NULL);"
                + " CREATE TABLE " + schema + ".b (k int PRIMARY KEY, w int NOT NULL);"
                + " CREATE TABLE " + schema + ".c (id int);"
                + " INSERT INTO " + schema + ".a SELECT g, g FROM generate_series(1, 50) g;"
                + " INSERT INTO " + schema + ".b SELECT g, 2 * g FROM generate_series(1, 50, 2) g;"
                + " INSERT INTO " + schema + ".c VALUES (1), (2);"
                + " CREATE VIEW " + schema + ".pv AS SELECT id FROM " + schema + ".c WHERE id > 0;"
                + " CREATE MATERIALIZED VIEW " + schema + ".mv AS " + query(schema));
        String id = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + schema + "\",\"viewName\":\"mv\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).body("skipUnchanged", equalTo(true)).extract().path("id");
        return new Fixture(schema, id, query(schema));
    }

    private static JsonPath track(String id) {
        return given().post(Api.BASE + "/" + id + "/change-tracking").then().statusCode(200).extract().jsonPath();
    }

    private static JsonPath refresh(String id) {
        return Api.refresh(id).statusCode(200).extract().jsonPath();
    }

    private static String skipped(String id) {
        return refresh(id).getString("skipped");
    }

    /** Rows in the view and not in its query, plus rows in the query and not in the view (with duplicates). */
    private static long difference(Fixture f) {
        return TestDb.count("SELECT count(*) FROM ((TABLE " + f.mv() + " EXCEPT ALL (" + f.query() + "))"
                + " UNION ALL ((" + f.query() + ") EXCEPT ALL TABLE " + f.mv() + ")) d");
    }

    @Test
    void aRefreshWithNothingChangedIsSkippedAndNamesTheRunWhoseDataItKept() {
        Fixture f = fixture();
        JsonPath tracking = track(f.id());
        assertEquals(List.of(f.schema() + ".a", f.schema() + ".b", f.schema() + ".c"),
                tracking.getList("tables.table"), "every table, the one behind the plain view too");
        assertEquals(List.of(true, true, true), tracking.getList("tables.tracked"));
        assertNull(tracking.getString("neverSkipped"));

        // The first refresh after tracking is installed is never skipped.
        JsonPath first = refresh(f.id());
        assertNull(first.getString("skipped"));
        String kept = first.getString("runId");
        JsonPath second = refresh(f.id());
        assertNotNull(second.getString("skipped"));
        assertTrue(second.getString("skipped").contains(kept), second.getString("skipped"));
        given().get("/api/admin/matview-runs/" + second.getString("runId")).then().statusCode(200)
                .body("status", equalTo("skipped")).body("error", containsString(kept));
        // A skip that kept current data counts as fresh; the registration keeps its last real refresh.
        given().get(Api.BASE + "/" + f.id()).then().body("lastUnchangedAt", org.hamcrest.Matchers.notNullValue());
        given().get(Api.BASE + "/" + f.id() + "/change-tracking").then().body("nextRefresh", nullValue());

        TestDb.run("INSERT INTO " + f.schema() + ".a VALUES (1000, 1)");
        assertEquals(1, TestDb.count("SELECT count(*) FROM _matviews_changes WHERE relid = '" + f.schema()
                + ".a'::regclass"), "one row for the one writing statement");
        given().get(Api.BASE + "/" + f.id() + "/change-tracking").then()
                .body("nextRefresh", containsString("source table " + f.schema() + ".a changed"));
        JsonPath third = refresh(f.id());
        assertNull(third.getString("skipped"));
        given().get("/api/admin/matview-runs/" + third.getString("runId")).then()
                .body("modeReason", containsString("not skipped: source table " + f.schema() + ".a changed"));
        assertEquals(0, difference(f));
        assertNotNull(skipped(f.id()));
        // The insert is in the view: compaction removes its row, and the view is still skipped.
        String rows = "SELECT count(*) FROM _matviews_changes WHERE relid = '" + f.schema() + ".a'::regclass";
        this.tracking.compact(1000).await().atMost(java.time.Duration.ofSeconds(30));
        assertEquals(0, TestDb.count(rows));
        assertNotNull(skipped(f.id()));
    }

    @Test
    void changesReachedThroughAPlainViewOrByTruncateOrUpdateAreSeen() {
        Fixture f = fixture();
        track(f.id());
        refresh(f.id());
        for (String change : List.of("INSERT INTO " + f.schema() + ".c VALUES (3)",
                "UPDATE " + f.schema() + ".b SET w = w + 1 WHERE k = 1",
                "DELETE FROM " + f.schema() + ".a WHERE k = 2",
                "TRUNCATE " + f.schema() + ".c")) {
            assertNotNull(skipped(f.id()), "nothing changed before: " + change);
            TestDb.run(change);
            assertNull(skipped(f.id()), change);
            assertEquals(0, difference(f), change);
        }
    }

    @Test
    void aRolledBackChangeNeverLeavesTheViewWrong() throws Exception {
        Fixture f = fixture();
        track(f.id());
        refresh(f.id());
        try (Connection conn = connection()) {
            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                st.execute("INSERT INTO " + f.schema() + ".a VALUES (2000, 2)");
                st.execute("SAVEPOINT s");
                st.execute("UPDATE " + f.schema() + ".b SET w = 0");
                st.execute("ROLLBACK TO SAVEPOINT s");
            }
            conn.rollback();
        }
        refresh(f.id());
        assertEquals(0, difference(f));
        assertNotNull(skipped(f.id()), "after any refresh, nothing changed");
    }

    @Test
    void concurrentWritersNeverLeaveASkippedViewWrong() throws Exception {
        Fixture f = fixture();
        track(f.id());
        refresh(f.id());
        int skips = 0;
        int refreshes = 0;
        // Big enough that a REFRESH takes a while: writers' commits land during it.
        TestDb.run("INSERT INTO " + f.schema() + ".a SELECT g, g FROM generate_series(100, 30000) g");
        refresh(f.id());
        for (int round = 0; round < 6; round++) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger writes = new AtomicInteger();
            List<Thread> writers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int w = 0; w < 3; w++) {
                Thread t = new Thread(() -> {
                    try (Connection conn = connection(); Statement st = conn.createStatement()) {
                        while (!stop.get()) {
                            st.execute(randomChange(f.schema()));
                            writes.incrementAndGet();
                        }
                    } catch (Exception e) {
                        if (!String.valueOf(e.getMessage()).contains("deadlock")) {
                            failures.add(e);
                        }
                    }
                }, "writer-" + w);
                t.start();
                writers.add(t);
            }
            // The writers stop while refreshes go on, so their last commits land during a REFRESH,
            // where a snapshot taken at the wrong moment would count them as seen.
            long start = System.nanoTime();
            long stopAt = start + 1_500_000_000L + ThreadLocalRandom.current().nextLong(200_000_000L);
            long until = stopAt + 500_000_000L;
            while (System.nanoTime() < until) {
                if (!stop.get() && System.nanoTime() >= stopAt) {
                    stop.set(true);
                }
                if (skipped(f.id()) == null) {
                    refreshes++;
                } else {
                    skips++;
                }
                // Compaction runs between decisions too: it must never take a row a decision needs.
                tracking.compact(1000).await().atMost(java.time.Duration.ofSeconds(30));
            }
            for (Thread t : writers) {
                t.join(10_000);
            }
            assertTrue(failures.isEmpty(), failures.toString());
            assertTrue(writes.get() > 0);
            // Writers stopped while refreshes went on; one more decision after they all ended
            // (refresh or skip, whichever it may be), and the view is its query.
            boolean skippedAfter = skipped(f.id()) != null;
            assertEquals(0, difference(f), "round " + round + " after " + writes.get() + " writes"
                    + (skippedAfter ? ", skipped" : ", refreshed"));
            refresh(f.id());
            assertEquals(0, difference(f), "round " + round + ", one more refresh");
            // And now nothing changed: the next one is skipped, and still right.
            assertNotNull(skipped(f.id()), "round " + round);
            assertEquals(0, difference(f));
        }
        assertTrue(refreshes > 0, "writers made refreshes necessary");
        System.out.printf("concurrent writers: %d refreshes, %d skips during writes%n", refreshes, skips);
    }

    @Test
    void aChangeCommittedWhileREFRESHRunsIsNotTakenAsSeen() throws Exception {
        Fixture f = fixture();
        // REFRESH takes a while (an immutable function, so skips stay possible).
        String heavy = "SELECT a.k, a.v, (SELECT count(*) FROM generate_series(1, 4000000)) AS n FROM " + f.schema() + ".a";
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".slow AS " + heavy);
        String id = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + f.schema() + "\",\"viewName\":\"slow\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        track(id);
        refresh(id);
        assertNotNull(skipped(id));
        TestDb.run("INSERT INTO " + f.schema() + ".a VALUES (5000, 5)");
        String runId = given().post(Api.BASE + "/" + id + "/refresh?async=true").then().statusCode(202)
                .extract().path("id");
        awaitREFRESHOf(f, "slow");
        // Committed after REFRESH took its snapshot: not in the view.
        TestDb.run("INSERT INTO " + f.schema() + ".a VALUES (5001, 6)");
        awaitSuccess(runId);
        assertEquals(1, TestDb.count("SELECT count(*) FROM " + f.schema() + ".slow WHERE k = 5000"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM " + f.schema() + ".slow WHERE k = 5001"),
                "the insert committed while REFRESH ran");
        tracking.compact(1000).await().atMost(java.time.Duration.ofSeconds(30));
        assertNull(skipped(id), "that change is not in the view: refreshed, not skipped");
        assertEquals(1, TestDb.count("SELECT count(*) FROM " + f.schema() + ".slow WHERE k = 5001"));
        assertNotNull(skipped(id));
    }

    /** Registers and tracks a view of the fixture's schema that takes a second or two to refresh. */
    private static String slowView(Fixture f, String name) {
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + "." + name + " AS SELECT a.k, a.v,"
                + " (SELECT count(*) FROM generate_series(1, 4000000)) AS n FROM " + f.schema() + ".a");
        String id = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + f.schema() + "\",\"viewName\":\"" + name + "\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        track(id);
        return id;
    }

    private static void awaitREFRESHOf(Fixture f, String view) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> TestDb.count(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                        + " AND query LIKE '%REFRESH MATERIALIZED VIEW \"" + f.schema() + "\".\"" + view + "\"%'") == 1);
    }

    private static void awaitSuccess(String runId) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> "success".equals(
                given().get("/api/admin/matview-runs/" + runId).then().extract().path("status")));
    }

    @Test
    void compactionWhileTheFirstTrackedRefreshRunsKeepsTheChangesItsSnapshotMissed() {
        Fixture f = fixture();
        String id = slowView(f, "slow");
        try (TestDb writer = TestDb.open()) {
            // In progress when the refresh takes its snapshot, committed while REFRESH runs.
            writer.exec("BEGIN");
            writer.exec("INSERT INTO " + f.schema() + ".a VALUES (7000, 7)");
            String runId = given().post(Api.BASE + "/" + id + "/refresh?async=true").then().statusCode(202)
                    .extract().path("id");
            awaitREFRESHOf(f, "slow");
            writer.exec("COMMIT");
            // The registration has no earlier snapshot: all compaction knows is the running run.
            tracking.compact(1000).await().atMost(java.time.Duration.ofSeconds(30));
            awaitSuccess(runId);
        }
        assertEquals(0, TestDb.count("SELECT count(*) FROM " + f.schema() + ".slow WHERE k = 7000"),
                "REFRESH did not see the insert");
        tracking.compact(1000).await().atMost(java.time.Duration.ofSeconds(30));
        assertNull(skipped(id), "the change that refresh missed is still known: refreshed, not skipped");
        assertEquals(1, TestDb.count("SELECT count(*) FROM " + f.schema() + ".slow WHERE k = 7000"));
        assertNotNull(skipped(id));
    }

    @Test
    void theLogKeepsOneRowPerTableAndClaimerHoweverLongAViewGoesUnrefreshed() {
        Fixture f = fixture();
        track(f.id());
        assertNull(skipped(f.id()));
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".mv2 AS SELECT k, v FROM " + f.schema() + ".a");
        String other = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + f.schema() + "\",\"viewName\":\"mv2\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        track(other);
        String rows = "SELECT count(*) FROM _matviews_changes WHERE relid = '" + f.schema() + ".a'::regclass";
        try (TestDb writer = TestDb.open()) {
            for (int i = 0; i < 150; i++) {
                writer.exec("INSERT INTO " + f.schema() + ".a VALUES (" + (10_000 + i) + ", 1)");
            }
            assertNull(skipped(other)); // mv2 now holds the first 150, mv none of them
            for (int i = 150; i < 300; i++) {
                writer.exec("UPDATE " + f.schema() + ".a SET v = v + 1 WHERE k = " + (i % 50 + 1));
            }
        }
        tracking.compact(1000).await().atMost(java.time.Duration.ofSeconds(30));
        assertEquals(2, TestDb.count(rows), "300 writes, two claimers: a witness each that a stayed unchanged for neither");
        assertNull(skipped(f.id()));
        assertEquals(0, difference(f));
        assertNull(skipped(other), "its witness was kept while the other view refreshed");
        assertEquals(0, TestDb.count("SELECT count(*) FROM ((TABLE " + f.schema() + ".mv2 EXCEPT SELECT k, v FROM "
                + f.schema() + ".a) UNION ALL (SELECT k, v FROM " + f.schema() + ".a EXCEPT TABLE " + f.schema()
                + ".mv2)) d"));
        tracking.compact(1000).await().atMost(java.time.Duration.ofSeconds(30));
        assertEquals(0, TestDb.count(rows));
        assertNotNull(skipped(f.id()));
        assertNotNull(skipped(other));
    }

    private static String randomChange(String schema) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        int k = r.nextInt(1, 80);
        return switch (r.nextInt(10)) {
            case 0, 1 -> "INSERT INTO " + schema + ".a VALUES (" + k + ", " + r.nextInt(100) + ") ON CONFLICT (k) DO UPDATE"
                    + " SET v = excluded.v";
            case 2, 3 -> "UPDATE " + schema + ".a SET v = v + 1 WHERE k = " + k;
            case 4 -> "DELETE FROM " + schema + ".a WHERE k = " + k;
            case 5, 6 -> "INSERT INTO " + schema + ".b VALUES (" + k + ", 1) ON CONFLICT (k) DO UPDATE SET w = "
                    + schema + ".b.w + 1";
            case 7 -> "DELETE FROM " + schema + ".b WHERE k = " + k;
            case 8 -> "INSERT INTO " + schema + ".c VALUES (" + k + ")";
            default -> r.nextInt(20) == 0 ? "TRUNCATE " + schema + ".c" : "DELETE FROM " + schema + ".c WHERE id = " + k;
        };
    }

    @Test
    void aSourceTableDroppedAndRecreatedNeedsTrackingAgainAndIsNeverSkippedMeanwhile() {
        Fixture f = fixture();
        track(f.id());
        refresh(f.id());
        assertNotNull(skipped(f.id()));
        TestDb.run("DROP TABLE " + f.schema() + ".b CASCADE;"
                + " CREATE TABLE " + f.schema() + ".b (k int PRIMARY KEY, w int NOT NULL);"
                + " INSERT INTO " + f.schema() + ".b VALUES (1, 7);"
                + " CREATE MATERIALIZED VIEW " + f.schema() + ".mv AS " + f.query());
        given().get(Api.BASE + "/" + f.id() + "/change-tracking").then().statusCode(200)
                .body("neverSkipped", containsString("source table " + f.schema() + ".b has no change tracking"));
        assertNull(skipped(f.id()));
        assertNull(skipped(f.id()), "still no tracking on the new table");
        track(f.id());
        assertNull(skipped(f.id()), "the first refresh after tracking is installed");
        assertNotNull(skipped(f.id()));
        assertEquals(0, difference(f));
    }

    @Test
    void turningTheTriggerOffAndOnAgainIsNoticed() {
        Fixture f = fixture();
        track(f.id());
        refresh(f.id());
        TestDb.run("ALTER TABLE " + f.schema() + ".a DISABLE TRIGGER _matviews_track_changes;"
                + " INSERT INTO " + f.schema() + ".a VALUES (3000, 3);"
                + " ALTER TABLE " + f.schema() + ".a ENABLE ALWAYS TRIGGER _matviews_track_changes");
        assertNull(skipped(f.id()), "its change trigger changed since the last refresh");
        assertEquals(0, difference(f));
    }

    @Test
    void changesUnderReplicationRoleReplicaAreSeenToo() {
        Fixture f = fixture();
        track(f.id());
        refresh(f.id());
        TestDb.runAsSuperuser("SET session_replication_role = replica; INSERT INTO " + f.schema() + ".a VALUES (4000, 4)");
        assertNull(skipped(f.id()));
        assertEquals(0, difference(f));
    }

    @Test
    void aWriterRoleWithNoPrivilegeOnMatviewsSchemaIsLoggedAndNotHindered() {
        Fixture f = fixture();
        track(f.id());
        refresh(f.id());
        String writer = f.schema() + "_writer";
        // An application role: it may write its table, and knows nothing of matviews' schema.
        TestDb.runAsSuperuser("CREATE ROLE " + writer + " NOLOGIN; GRANT USAGE ON SCHEMA " + f.schema() + " TO " + writer
                + "; GRANT INSERT, SELECT ON " + f.schema() + ".a TO " + writer + "; REVOKE ALL ON SCHEMA public FROM "
                + writer + "; SET ROLE " + writer + "; SET search_path = " + f.schema() + "; INSERT INTO a VALUES (6000, 6)");
        assertNull(skipped(f.id()), "the writer's insert was logged through the trigger's owner");
        assertEquals(0, difference(f));
        TestDb.runAsSuperuser("DROP OWNED BY " + writer + "; DROP ROLE " + writer);
    }

    @Test
    void maxSkipAgeForcesARefreshAnyway() throws Exception {
        Fixture f = fixture();
        track(f.id());
        given().contentType(ContentType.JSON).body("{\"maxSkipAgeSeconds\":1}").put(Api.BASE + "/" + f.id())
                .then().statusCode(200).body("maxSkipAgeSeconds", equalTo(1));
        refresh(f.id());
        assertNotNull(skipped(f.id()));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> String.valueOf((Object)
                given().get(Api.BASE + "/" + f.id() + "/change-tracking").then().extract().path("nextRefresh"))
                .contains("maxSkipAge"));
        String runId = refresh(f.id()).getString("runId");
        given().get("/api/admin/matview-runs/" + runId).then().body("status", equalTo("success"))
                .body("modeReason", containsString("maxSkipAge"));
    }

    @Test
    void viewsWithVolatileOrStableFunctionsOrForeignTablesAreNeverSkippedAndSayWhy() {
        Fixture f = fixture();
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".rnd AS SELECT k, random() AS r FROM " + f.schema() + ".a;"
                + " CREATE VIEW " + f.schema() + ".recent AS SELECT k FROM " + f.schema() + ".a WHERE v < extract(epoch FROM now());"
                + " CREATE MATERIALIZED VIEW " + f.schema() + ".clock AS SELECT count(*) FROM " + f.schema() + ".recent");
        TestDb.runAsSuperuser("CREATE FOREIGN DATA WRAPPER " + f.schema() + "_fdw;"
                + " CREATE SERVER " + f.schema() + "_srv FOREIGN DATA WRAPPER " + f.schema() + "_fdw;"
                + " CREATE FOREIGN TABLE " + f.schema() + ".remote (id int) SERVER " + f.schema() + "_srv;"
                + " ALTER FOREIGN TABLE " + f.schema() + ".remote OWNER TO " + ROLE);
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".far AS SELECT id FROM " + f.schema() + ".remote WITH NO DATA");
        // No function in pg_depend: CURRENT_DATE and CURRENT_USER are SQLValueFunction nodes.
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".today AS SELECT k FROM " + f.schema() + ".a"
                + " WHERE v < CURRENT_DATE - DATE '2000-01-01';"
                + " CREATE MATERIALIZED VIEW " + f.schema() + ".mine AS SELECT k, CURRENT_USER AS who FROM " + f.schema() + ".a");
        String valueFunction = "uses a SQL value function such as CURRENT_DATE, CURRENT_TIMESTAMP or CURRENT_USER";
        for (String[] v : List.of(new String[]{"rnd", "uses volatile function random()"},
                new String[]{"clock", "uses stable functions extract(), now()"},
                new String[]{"today", valueFunction},
                new String[]{"mine", valueFunction},
                new String[]{"far", "reads foreign table " + f.schema() + ".remote"})) {
            String id = given().contentType(ContentType.JSON)
                    .body("{\"schema\":\"" + f.schema() + "\",\"viewName\":\"" + v[0] + "\",\"skipUnchanged\":true}")
                    .post(Api.BASE).then().statusCode(201).extract().path("id");
            track(id);
            given().get(Api.BASE + "/" + id + "/change-tracking").then().statusCode(200)
                    .body("neverSkipped", equalTo(v[1]));
            if (!v[0].equals("far")) {
                refresh(id);
                JsonPath again = refresh(id);
                assertNull(again.getString("skipped"), v[0]);
                given().get("/api/admin/matview-runs/" + again.getString("runId")).then()
                        .body("modeReason", containsString(v[1]));
            }
        }
    }

    @Test
    void installingTrackingNeedsToOwnEveryTableAndChangesNothingWhenItCannot() {
        Fixture f = fixture();
        TestDb.runAsSuperuser("CREATE TABLE " + f.schema() + ".theirs (k int); GRANT SELECT ON " + f.schema()
                + ".theirs TO " + ROLE);
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".mixed AS SELECT a.k FROM " + f.schema() + ".a JOIN "
                + f.schema() + ".theirs USING (k)");
        String id = Api.register(f.schema(), "mixed", "standard");
        given().post(Api.BASE + "/" + id + "/change-tracking").then().statusCode(409)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:matviews:problem:change-tracking-not-permitted"))
                .body("detail", containsString("theirs"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM pg_trigger WHERE tgname = '_matviews_track_changes'"
                + " AND tgrelid = '" + f.schema() + ".a'::regclass"), "all or nothing");
        given().post(Api.BASE + "/" + java.util.UUID.randomUUID() + "/change-tracking").then().statusCode(404);
        given().post(Api.BASE + "/nope/change-tracking").then().statusCode(400);
    }

    @Test
    void aRegisteredMatviewItReadsCountsAsChangedWhenRefreshedAndCascadesSkipWhatIsUnchanged() {
        Fixture f = fixture();
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".top AS SELECT sum(total) AS s FROM " + f.mv());
        String top = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + f.schema() + "\",\"viewName\":\"top\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        track(f.id());
        track(top);
        refresh(f.id());
        refresh(top);
        assertNotNull(skipped(top));
        // Downstream from mv with nothing changed: both skipped.
        JsonPath cascade = given().post(Api.BASE + "/" + f.id() + "/refresh?cascade=downstream").then().statusCode(200)
                .body("status", equalTo("success")).extract().jsonPath();
        assertEquals(List.of("skipped", "skipped"), cascade.getList("nodes.status"));
        // A change below mv: mv refreshes, and then top, because mv was refreshed.
        TestDb.run("UPDATE " + f.schema() + ".a SET v = v + 10 WHERE k = 3");
        cascade = given().post(Api.BASE + "/" + f.id() + "/refresh?cascade=downstream").then().statusCode(200)
                .body("status", equalTo("success")).extract().jsonPath();
        assertEquals(List.of("success", "success"), cascade.getList("nodes.status"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM ((TABLE " + f.schema() + ".top) EXCEPT (SELECT sum(total)"
                + " FROM " + f.mv() + ")) d"));
        String topRun = cascade.getString("nodes[1].runId");
        given().get("/api/admin/matview-runs/" + topRun).then()
                .body("modeReason", containsString("source materialized view " + f.schema() + ".mv was refreshed"));
    }

    @Test
    void unregisteringOrRemovingTrackingDropsTriggersNobodyElseClaims() {
        Fixture f = fixture();
        TestDb.run("CREATE MATERIALIZED VIEW " + f.schema() + ".other AS SELECT k FROM " + f.schema() + ".a");
        String other = Api.register(f.schema(), "other", "standard");
        track(f.id());
        track(other);
        String triggers = "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n"
                + " ON n.oid = c.relnamespace WHERE t.tgname = '_matviews_track_changes' AND n.nspname = '" + f.schema() + "'";
        assertEquals(3, TestDb.count(triggers));
        given().delete(Api.BASE + "/" + f.id() + "/change-tracking").then().statusCode(200)
                .body("tables.tracked", equalTo(List.of(false, false, false)));
        assertEquals(1, TestDb.count(triggers), "a stays: other claims it");
        given().delete(Api.BASE + "/" + other).then().statusCode(204);
        assertEquals(0, TestDb.count(triggers));
    }

    private static Connection connection() throws Exception {
        var config = ConfigProvider.getConfig();
        return DriverManager.getConnection(config.getValue("quarkus.datasource.jdbc.url", String.class),
                config.getValue("quarkus.datasource.username", String.class),
                config.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
    }
}
