package dev.matviews.incremental;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.matviews.incremental.IncrementalViewTest.difference;
import static dev.matviews.incremental.IncrementalViewTest.register;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Incremental views under concurrent writers and faults, against a real PostgreSQL: no change is
 * lost or applied twice (writers racing refreshes, a transaction spanning several refreshes,
 * rolled-back writers), a refresh killed in the middle of its apply leaves nothing half-applied,
 * and a source dropped and recreated is a clear error, never wrong data.
 */
@QuarkusTest
class IncrementalFaultsTest {

    static final String ROLE = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
    static String s;

    @BeforeAll
    static void schema() {
        s = TestDb.uniqueName("incf");
        TestDb.runAsSuperuser("CREATE SCHEMA " + s + " AUTHORIZATION " + ROLE);
    }

    @Test
    void concurrentWritersLongAndRolledBackTransactionsNeitherLoseNorDoubleAChange() throws Exception {
        TestDb.run("CREATE TABLE " + s + ".a (id int, g int, v numeric); CREATE TABLE " + s + ".b (id int, w text);"
                // big enough that the writers' changes between two refreshes stay under the rebuild share
                + " INSERT INTO " + s + ".a SELECT i % 2000, i % 5, i FROM generate_series(1, 20000) i;"
                + " INSERT INTO " + s + ".b SELECT i % 2000, 'w' || (i % 4) FROM generate_series(1, 2000) i;"
                + " ANALYZE " + s + ".a, " + s + ".b");
        String grouped = "SELECT a.g, count(*) AS n, sum(a.v) AS total, min(b.w) AS lo, max(a.v) AS hi FROM " + s
                + ".a JOIN " + s + ".b ON a.id = b.id GROUP BY a.g";
        String joined = "SELECT a.id, a.v, b.w FROM " + s + ".a JOIN " + s + ".b ON a.id = b.id";
        String groupedId = register(s, "c_grouped", grouped).statusCode(201).extract().path("id");
        String joinedId = register(s, "c_joined", joined).statusCode(201).extract().path("id");

        AtomicInteger committed = new AtomicInteger();
        AtomicInteger rolledBack = new AtomicInteger();
        int rounds = 30;
        // writers and refreshes run at the same time; each round, every writer writes a batch, so
        // that the changes between two refreshes stay a small part of the tables (no rebuild)
        Phaser round = new Phaser(4);
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            long seed = 100 + w;
            writers.add(CompletableFuture.runAsync(() -> write(seed, rounds, round, committed, rolledBack)));
        }
        try (TestDb longTx = TestDb.open()) {
            for (int r = 0; r < rounds; r++) {
                if (r == 3) {
                    // a transaction that writes before a refresh and commits after several more
                    longTx.exec("BEGIN");
                    longTx.exec("INSERT INTO " + s + ".a VALUES (1, 4, 1000), (2, 4, 1001)");
                } else if (r == 8) {
                    longTx.exec("DELETE FROM " + s + ".b WHERE id = 3");
                    longTx.exec("COMMIT");
                }
                Api.refresh(groupedId).statusCode(200);
                Api.refresh(joinedId).statusCode(200);
                round.arriveAndAwaitAdvance();
            }
        }
        CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get();
        Api.refresh(groupedId).statusCode(200);
        Api.refresh(joinedId).statusCode(200);
        assertEquals(0, difference(s + ".c_grouped", List.of("g", "n", "total", "lo", "hi"), grouped));
        assertEquals(0, difference(s + ".c_joined", List.of("id", "v", "w"), joined));
        assertTrue(committed.get() > 400 && rolledBack.get() > 50, committed + " committed, " + rolledBack + " rolled back");
        long applied = TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE schema_name = '" + s
                + "' AND view_name = 'c_grouped' AND mode_reason LIKE 'incremental:%' AND change_rows > 0");
        assertTrue(applied > 15, applied + " refreshes applied changes; "
                + TestDb.string("SELECT string_agg(DISTINCT mode_reason, ' | ') FROM _ayb_matview_refresh_runs"
                + " WHERE schema_name = '" + s + "' AND mode_reason LIKE 'full:%'"));
    }

    /** Per round, 10 transactions of 1-3 statements as fast as they go, one in five rolled back. */
    private static void write(long seed, int rounds, Phaser round, AtomicInteger committed, AtomicInteger rolledBack) {
        Random random = new Random(seed);
        try (TestDb db = TestDb.open()) {
            for (int r = 0; r < rounds; r++) {
                for (int n = 0; n < 10; n++) {
                    db.exec("BEGIN");
                    try {
                        statements(db, random);
                    } catch (IllegalStateException e) {
                        // writers deadlock among themselves (rows in different orders): that one is rolled back
                        db.exec("ROLLBACK");
                        rolledBack.incrementAndGet();
                        continue;
                    }
                    if (random.nextInt(5) == 0) {
                        db.exec("ROLLBACK");
                        rolledBack.incrementAndGet();
                    } else {
                        db.exec("COMMIT");
                        committed.incrementAndGet();
                    }
                }
                round.arriveAndAwaitAdvance();
            }
        } finally {
            round.arriveAndDeregister();
        }
    }

    private static void statements(TestDb db, Random random) {
        for (int i = 1 + random.nextInt(3); i > 0; i--) {
            int id = random.nextInt(2000);
            db.exec(switch (random.nextInt(5)) {
                case 0 -> "INSERT INTO " + s + ".a VALUES (" + id + ", " + random.nextInt(5) + ", " + random.nextInt(100) + ")";
                case 1 -> "INSERT INTO " + s + ".b VALUES (" + id + ", 'w" + random.nextInt(6) + "')";
                case 2 -> "UPDATE " + s + ".a SET v = v + 1 WHERE id = " + id + " AND g = " + random.nextInt(5);
                case 3 -> "DELETE FROM " + s + ".a WHERE ctid = (SELECT ctid FROM " + s + ".a WHERE id = " + id + " LIMIT 1)";
                default -> "DELETE FROM " + s + ".b WHERE ctid = (SELECT ctid FROM " + s + ".b WHERE id = " + id + " LIMIT 1)";
            });
        }
    }

    @Test
    void aRefreshKilledInTheMiddleOfItsApplyLeavesNothingHalfApplied() throws Exception {
        TestDb.run("CREATE TABLE " + s + ".k (g int, v int); INSERT INTO " + s + ".k VALUES (1, 1), (2, 2)");
        String def = "SELECT g, count(*) AS n, sum(v) AS total FROM " + s + ".k GROUP BY g";
        String id = register(s, "k_view", def).statusCode(201).extract().path("id");
        String before = TestDb.string("SELECT string_agg(g || ':' || n || ':' || total, ',' ORDER BY g) FROM " + s + ".k_view");
        // changes to every group, and a new one
        TestDb.run("INSERT INTO " + s + ".k VALUES (1, 10), (2, 20), (3, 30)");
        try (TestDb holder = TestDb.open()) {
            // the apply will update group 1, insert group 3, and wait here for group 2's row
            holder.exec("BEGIN");
            holder.exec("SELECT * FROM " + s + ".k_view WHERE g = 2 FOR UPDATE");
            CompletableFuture<Integer> refresh = CompletableFuture.supplyAsync(() -> Api.refresh(id).extract().statusCode());
            await().atMost(Duration.ofSeconds(20)).until(() -> TestDb.count("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE wait_event_type = 'Lock' AND query LIKE '%_matviews_apply%'") == 1);
            TestDb.runAsSuperuser("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    + " AND query LIKE '%_matviews_apply%'");
            assertTrue(refresh.get() >= 500, "the killed refresh is answered as failed");
            holder.exec("ROLLBACK");
        }
        assertEquals(before, TestDb.string("SELECT string_agg(g || ':' || n || ':' || total, ',' ORDER BY g) FROM "
                + s + ".k_view"));
        assertEquals("error", TestDb.string("SELECT status FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                + id + "' ORDER BY started_at DESC LIMIT 1"));
        Api.refresh(id).statusCode(200);
        assertEquals(0, difference(s + ".k_view", List.of("g", "n", "total"), def));
        assertEquals(0, TestDb.ourAdvisoryLocks());
    }

    @Test
    void aSourceDroppedAndRecreatedIsAClearErrorAndAddedColumnsARebuild() {
        TestDb.run("CREATE TABLE " + s + ".r (g int, v int); INSERT INTO " + s + ".r VALUES (1, 1)");
        String def = "SELECT g, sum(v) AS total FROM " + s + ".r GROUP BY g";
        String id = register(s, "r_view", def).statusCode(201).extract().path("id");
        // a column added: the next refresh rebuilds, saying why
        TestDb.run("ALTER TABLE " + s + ".r ADD COLUMN note text; INSERT INTO " + s + ".r VALUES (2, 5, 'x')");
        Api.refresh(id).statusCode(200);
        assertEquals("full: the columns of a source table changed; wrote 3 view rows", TestDb.string(
                "SELECT mode_reason FROM _ayb_matview_refresh_runs WHERE registration_id = '" + id
                        + "' ORDER BY started_at DESC LIMIT 1"));
        assertEquals(0, difference(s + ".r_view", List.of("g", "total"), def));
        // dropped and recreated: its capture went with it, so nothing from here on could be trusted
        TestDb.run("DROP TABLE " + s + ".r; CREATE TABLE " + s + ".r (g int, v int); INSERT INTO " + s + ".r VALUES (9, 9)");
        Api.refresh(id).statusCode(500).contentType("application/problem+json")
                .body("detail", containsString("dropped or recreated"));
        assertEquals("1:1,2:5", TestDb.string("SELECT string_agg(g || ':' || total, ',' ORDER BY g) FROM " + s + ".r_view"));
        // a TRUNCATE: rebuilt
        TestDb.run("DROP TABLE " + s + ".r; CREATE TABLE " + s + ".t2 (g int, v int); INSERT INTO " + s + ".t2 VALUES (1, 1)");
        String def2 = "SELECT g, sum(v) AS total FROM " + s + ".t2 GROUP BY g";
        String id2 = register(s, "t2_view", def2).statusCode(201).extract().path("id");
        TestDb.run("TRUNCATE " + s + ".t2; INSERT INTO " + s + ".t2 VALUES (4, 4)");
        Api.refresh(id2).statusCode(200);
        assertTrue(TestDb.string("SELECT mode_reason FROM _ayb_matview_refresh_runs WHERE registration_id = '" + id2
                + "' ORDER BY started_at DESC LIMIT 1").startsWith("full: TRUNCATE of " + s + ".t2"));
        assertEquals(0, difference(s + ".t2_view", List.of("g", "total"), def2));
    }
}
