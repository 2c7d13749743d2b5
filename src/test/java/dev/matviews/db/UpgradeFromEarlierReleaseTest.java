package dev.matviews.db;

import dev.matviews.support.Api;
import dev.matviews.support.OwnPostgres;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A database that matviews 0.1 migrated (its history in flyway_schema_history) upgrades at
 * start-up with no manual step: the history moves to _matviews_schema_history as it was, the
 * data stays, and the default table is free for an application's own Flyway.
 */
@QuarkusTest
@TestProfile(UpgradeFromEarlierReleaseTest.EarlierRelease.class)
class UpgradeFromEarlierReleaseTest {

    public static class EarlierRelease implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OwnPostgres.class, Map.of("setup", "earlier-release")));
        }
    }

    private static final String REGISTRATION = "0a1a0000-0000-0000-0000-000000000001";

    @Inject
    SchemaMigration migration;

    @Test
    void theHistoryMovesOverRowForRowAndFlywaysDefaultTableIsGone() {
        try (TestDb db = TestDb.openAsSuperuser()) {
            assertNull(db.queryString("SELECT to_regclass('public.flyway_schema_history')::text"));
            assertEquals(db.queryString("SELECT string_agg(h::text, E'\\n' ORDER BY installed_rank) FROM earlier.history h"),
                    db.queryString("SELECT string_agg(h::text, E'\\n' ORDER BY installed_rank)"
                            + " FROM public._matviews_schema_history h WHERE installed_rank <= 4"));
            assertEquals(0, db.queryLong("SELECT count(*) FROM public._matviews_schema_history WHERE type = 'BASELINE'"));
            assertEquals("_matviews_schema_history_pk _matviews_schema_history_s_idx", db.queryString(
                    "SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class WHERE relkind = 'i'"
                            + " AND relname LIKE '%schema_history%'"));
        }
    }

    @Test
    void registrationsOfTheEarlierReleaseStayAndRefresh() {
        Api.get(REGISTRATION).statusCode(200).body("viewName", equalTo("leaderboard"))
                .body("lastRefreshAt", equalTo("2026-10-01T12:00:00Z"));
        Api.refresh(REGISTRATION).statusCode(200).body("registration.lastRefreshStatus", equalTo("success"));
    }

    @Test
    void aRestartAfterTheUpgradeFindsNothingToDo() {
        assertEquals(0, migration.migrate().migrationsExecuted);
        try (TestDb db = TestDb.openAsSuperuser()) {
            assertNull(db.queryString("SELECT to_regclass('public.flyway_schema_history')::text"));
        }
    }
}
