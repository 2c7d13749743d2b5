package dev.matviews.registry;

import dev.matviews.problem.InvalidInputException;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import dev.matviews.schedule.ScheduleService;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry against a real PostgreSQL (contract section 8). */
@QuarkusTest
class RegistryServiceTest {

    @Inject
    RegistryService registry;
    @Inject
    ScheduleService schedules;

    private static <T> T await(Uni<T> uni) {
        return uni.await().atMost(Duration.ofSeconds(30));
    }

    private static Throwable failureOf(Uni<?> uni) {
        return assertThrows(RuntimeException.class, () -> await(uni));
    }

    private static String matview() {
        String name = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + name + " AS SELECT 1 AS id");
        return name;
    }

    @Test
    void registersAndFindsByIdAndByName() {
        String view = matview();
        Registration created = await(registry.register(null, view, null));
        assertEquals("public", created.schemaName());
        assertEquals(view, created.viewName());
        assertEquals(RefreshMode.STANDARD, created.refreshMode());
        assertNull(created.lastRefreshStatus());
        assertNotNull(created.createdAt());

        assertEquals(created, await(registry.get(created.id())));
        assertEquals(created, await(registry.findByName("public", view)).orElseThrow());
        assertTrue(await(registry.findByName("public", "no_such_view")).isEmpty());
    }

    @Test
    void refusesATableAndAPlainView() {
        String table = TestDb.uniqueName("tbl");
        String plain = TestDb.uniqueName("v");
        TestDb.run("CREATE TABLE public." + table + " (id int); CREATE VIEW public." + plain + " AS SELECT 1 AS id");
        assertInstanceOf(NotAMatviewException.class, failureOf(registry.register("public", table, null)));
        assertInstanceOf(NotAMatviewException.class, failureOf(registry.register("public", plain, null)));
        assertInstanceOf(NotAMatviewException.class, failureOf(registry.register("no_such_schema", "x", null)));
    }

    @Test
    void refusesADuplicate() {
        String view = matview();
        await(registry.register("public", view, "concurrent"));
        assertInstanceOf(AlreadyRegisteredException.class, failureOf(registry.register("public", view, "standard")));
    }

    @Test
    void updatesTheMode() {
        Registration created = await(registry.register("public", matview(), "standard"));
        Registration updated = await(registry.update(created.id(), Setting.of("concurrent"), Setting.absent(), Setting.absent(),
                Setting.absent()));
        assertEquals(RefreshMode.CONCURRENT, updated.refreshMode());
        assertEquals(RefreshMode.CONCURRENT, await(registry.get(created.id())).refreshMode());
        assertTrue(!updated.updatedAt().isBefore(created.updatedAt()));
    }

    @Test
    void updateDeleteAndGetOfAnUnknownIdAreNotFound() {
        UUID unknown = UUID.randomUUID();
        assertInstanceOf(RegistrationNotFoundException.class, failureOf(registry.update(unknown,
                Setting.of("standard"), Setting.absent(), Setting.absent(), Setting.absent())));
        assertInstanceOf(RegistrationNotFoundException.class, failureOf(registry.unregister(unknown)));
        assertInstanceOf(RegistrationNotFoundException.class, failureOf(registry.get(unknown)));
    }

    @Test
    void unregisterForgetsTheRegistrationButLeavesTheView() {
        String view = matview();
        Registration created = await(registry.register("public", view, null));
        await(registry.unregister(created.id()));
        assertInstanceOf(RegistrationNotFoundException.class, failureOf(registry.get(created.id())));
        assertEquals(1, TestDb.count("SELECT count(*) FROM public." + view));
    }

    @Test
    void listsSortedBySchemaThenView() {
        String a = TestDb.uniqueName("sa");
        String b = TestDb.uniqueName("sb");
        // The service's role may not create schemas: the superuser does, as an administrator would.
        TestDb.runAsSuperuser("CREATE SCHEMA " + a + "; CREATE SCHEMA " + b
                + "; CREATE MATERIALIZED VIEW " + b + ".alpha AS SELECT 1"
                + "; CREATE MATERIALIZED VIEW " + a + ".zulu AS SELECT 1"
                + "; CREATE MATERIALIZED VIEW " + a + ".beta AS SELECT 1");
        await(registry.register(b, "alpha", null));
        await(registry.register(a, "zulu", null));
        await(registry.register(a, "beta", null));
        List<String> ours = await(registry.list()).stream()
                .filter(r -> r.schemaName().equals(a) || r.schemaName().equals(b))
                .map(Registration::qualifiedName).toList();
        assertEquals(List.of(a + ".beta", a + ".zulu", b + ".alpha"), ours);
    }

    @Test
    void rejectsBadInputBeforeTouchingTheDatabase() {
        assertInstanceOf(InvalidInputException.class, failureOf(registry.register("public", null, null)));
        assertInstanceOf(InvalidInputException.class, failureOf(registry.register("public", "bad-name", null)));
        assertInstanceOf(InvalidInputException.class, failureOf(registry.register("public", "a".repeat(64), null)));
        assertInstanceOf(InvalidInputException.class, failureOf(registry.register("a".repeat(64), "ok", null)));
        assertInstanceOf(InvalidInputException.class, failureOf(registry.register("public", "ok", "fast")));
    }

    @Test
    void mixedCaseAndReservedWordNamesWork() {
        TestDb.run("CREATE MATERIALIZED VIEW IF NOT EXISTS public.\"Select\" AS SELECT 1 AS id");
        Registration r = await(registry.findByName("public", "Select"))
                .orElseGet(() -> await(registry.register("public", "Select", null)));
        assertEquals("Select", r.viewName());
        assertInstanceOf(NotAMatviewException.class, failureOf(registry.register("public", "select", null)));
    }
}
