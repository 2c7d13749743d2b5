package dev.matviews.refresh;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import dev.matviews.runs.RunRepository;
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
    @Inject
    RunRepository runs;

    @AfterEach
    void noLockLeft() {
        assertEquals(0, TestDb.ourAdvisoryLocks());
    }

    /** Runs the preflight on one connection, then ends any run it started and gives back any lock it took. */
    private Preflight preflight(String id) {
        return pool.withConnection(conn -> repository.preflightAndLock(conn, UUID.fromString(id), Trigger.MANUAL, "test")
                        .call(p -> p instanceof Preflight.Locked l && l.run() != null
                                ? runs.finishFailed(conn, l.run().id(), RunStatus.CANCELLED, "test", null, 0)
                                : Uni.createFrom().voidItem())
                        .call(p -> p instanceof Preflight.Locked l
                                ? repository.unlock(conn, l.lockKey()).invoke(released -> assertTrue(released))
                                : Uni.createFrom().voidItem()))
                .await().atMost(Duration.ofSeconds(10));
    }

    @Test
    void aPopulatedViewWithAUsableUniqueIndexIsLockedAndReady() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id; CREATE UNIQUE INDEX ON public." + mv + " (id)"
                + "; CREATE UNIQUE INDEX ON public." + mv + " (id) WHERE id > 5");
        Preflight.Locked locked = assertInstanceOf(Preflight.Locked.class, preflight(Api.register("public", mv, "concurrent")));
        assertTrue(locked.populated());
        assertTrue(locked.hasUsableUniqueIndex(), "one usable index is enough");
        assertTrue(locked.rejectedIndexes().contains("is partial"));
        assertEquals(TestDb.count("SELECT 'public." + mv + "'::regclass::oid::int4"), locked.lockKey());
        assertNotNull(locked.run(), "a refresh that can start records a running run");
    }

    @Test
    void aViewWithNoDataIsNotPopulatedAndHasNoUniqueIndex() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id WITH NO DATA");
        Preflight.Locked locked = assertInstanceOf(Preflight.Locked.class, preflight(Api.register("public", mv, "standard")));
        assertFalse(locked.populated());
        assertFalse(locked.hasUsableUniqueIndex());
        assertNull(locked.rejectedIndexes());
        assertNotNull(locked.run(), "standard mode has no prerequisites");
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
