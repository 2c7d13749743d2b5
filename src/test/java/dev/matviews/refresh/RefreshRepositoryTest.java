package dev.matviews.refresh;

import dev.matviews.db.AdvisoryLocks;
import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import dev.matviews.runs.RunStatus;
import dev.matviews.runs.Trigger;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one-round-trip preflight: matview state, unique-index detection and the lock, read directly. */
@QuarkusTest
class RefreshRepositoryTest {

    @Inject
    Pool pool;
    @Inject
    RefreshRepository repository;

    @AfterEach
    void noLockLeft() {
        assertEquals(0, TestDb.ourAdvisoryLocks());
    }

    /** Runs the preflight on one connection, then ends any run it started and gives back any lock it took. */
    private Preflight preflight(String id) {
        return pool.withConnection(conn -> repository.preflightAndLock(conn, UUID.fromString(id), Trigger.MANUAL, "test", null)
                        .call(p -> p instanceof Preflight.Started started
                                ? repository.finishFailed(conn, started.run().id(), RunStatus.CANCELLED, "test", null, 0)
                                : Uni.createFrom().voidItem())
                        .call(p -> p instanceof Preflight.Locked l
                                ? AdvisoryLocks.unlock(conn, l.lockKey()).invoke(released -> assertTrue(released))
                                : Uni.createFrom().voidItem()))
                .await().atMost(Duration.ofSeconds(10));
    }

    /**
     * The running run commits without waiting for its WAL flush (the success commit flushes it
     * with the refresh); the setting is local to the preflight's own transaction.
     */
    @Test
    void thePreflightCommitsWithoutWaitingForItsFlush() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        UUID id = UUID.fromString(Api.register("public", mv, "standard"));
        String[] setting = new String[3];
        pool.withConnection(conn -> show(conn, setting, 0)
                        .chain(() -> conn.begin())
                        // Whatever the server's default (the embedded one runs with it off).
                        .call(tx -> conn.query("SET LOCAL synchronous_commit = on").execute())
                        .flatMap(tx -> repository.preflightAndLock(conn, id, Trigger.MANUAL, "test", null)
                                .call(p -> show(conn, setting, 1))
                                .call(p -> tx.rollback())
                                .call(p -> show(conn, setting, 2))
                                .call(p -> AdvisoryLocks.unlock(conn, ((Preflight.Locked) p).lockKey()))))
                .await().atMost(Duration.ofSeconds(10));
        assertEquals("off", setting[1], "in the preflight's transaction");
        assertEquals(setting[0], setting[2], "after it, as before");
    }

    private static Uni<Void> show(io.vertx.mutiny.sqlclient.SqlConnection conn, String[] into, int index) {
        return conn.query("SHOW synchronous_commit").execute()
                .invoke(rows -> into[index] = rows.iterator().next().getString(0)).replaceWithVoid();
    }

    @Test
    void aPopulatedViewWithAUsableUniqueIndexIsLockedAndReady() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id; CREATE UNIQUE INDEX ON public." + mv + " (id)"
                + "; CREATE UNIQUE INDEX ON public." + mv + " (id) WHERE id > 5");
        Preflight.Started started = assertInstanceOf(Preflight.Started.class,
                preflight(Api.register("public", mv, "concurrent")), "one usable index is enough");
        assertEquals(TestDb.count("SELECT 'public." + mv + "'::regclass::oid::int4"), started.lockKey());
        assertNotNull(started.run(), "a refresh that can start records a running run");
    }

    @Test
    void aViewWhoseOnlyUniqueIndexIsPartialIsNotReadyForConcurrently() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id; CREATE UNIQUE INDEX ON public." + mv
                + " (id) WHERE id > 5");
        Preflight.Unready unready = assertInstanceOf(Preflight.Unready.class,
                preflight(Api.register("public", mv, "concurrent")));
        assertTrue(unready.populated());
        assertTrue(unready.rejectedIndexes().contains("is partial"));
        assertEquals(TestDb.count("SELECT 'public." + mv + "'::regclass::oid::int4"), unready.lockKey());
    }

    @Test
    void aViewWithNoDataIsNotPopulatedAndHasNoUniqueIndex() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id WITH NO DATA");
        Preflight.Unready unready = assertInstanceOf(Preflight.Unready.class,
                preflight(Api.register("public", mv, "concurrent")));
        assertFalse(unready.populated());
        assertNull(unready.rejectedIndexes());
        String other = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + other + " AS SELECT 1 AS id WITH NO DATA");
        assertNotNull(assertInstanceOf(Preflight.Started.class, preflight(Api.register("public", other, "standard")))
                .run(), "standard mode has no prerequisites");
    }

    @Test
    void aDroppedViewIsGoneAndNoLockIsTaken() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        TestDb.run("DROP MATERIALIZED VIEW public." + mv + "; CREATE TABLE public." + mv + " (id int)");
        assertInstanceOf(Preflight.Gone.class, preflight(id), "a table of the same name is not the matview");
    }

    @Test
    void aLockHeldElsewhereIsBusyAndAnUnknownIdIsUnknown() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        try (TestDb other = TestDb.open()) {
            other.lockView("public", mv);
            assertInstanceOf(Preflight.Busy.class, preflight(id));
            other.unlockView("public", mv);
        }
        assertInstanceOf(Preflight.Unknown.class, preflight(UUID.randomUUID().toString()));
    }
}
