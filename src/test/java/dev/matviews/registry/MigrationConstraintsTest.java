package dev.matviews.registry;

import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The database itself refuses what the service would refuse (contract section 1). */
@QuarkusTest
class MigrationConstraintsTest {

    private static final String CHECK_VIOLATION = "23514";
    private static final String UNIQUE_VIOLATION = "23505";
    private static final String INSERT = "INSERT INTO _ayb_matview_refreshes (schema_name, view_name, refresh_mode) VALUES ";

    @Test
    void rejectsAnUnknownMode() {
        try (TestDb db = TestDb.open()) {
            assertEquals(CHECK_VIOLATION, db.sqlStateOf(INSERT + "('public', 'c1', 'fast')"));
        }
    }

    @Test
    void rejectsBadIdentifiers() {
        try (TestDb db = TestDb.open()) {
            assertEquals(CHECK_VIOLATION, db.sqlStateOf(INSERT + "('public', 'bad-name', 'standard')"));
            assertEquals(CHECK_VIOLATION, db.sqlStateOf(INSERT + "('1abc', 'ok', 'standard')"));
            assertEquals(CHECK_VIOLATION, db.sqlStateOf(INSERT + "('public', 'bad\"quote', 'standard')"));
        }
    }

    @Test
    void rejectsAnUnknownStatus() {
        try (TestDb db = TestDb.open()) {
            assertEquals(CHECK_VIOLATION, db.sqlStateOf("INSERT INTO _ayb_matview_refreshes (view_name, last_refresh_status)"
                    + " VALUES ('c2', 'running')"));
        }
    }

    @Test
    void rejectsADuplicatePairAndDefaultsTheRest() {
        String view = TestDb.uniqueName("c");
        try (TestDb db = TestDb.open()) {
            assertNull(db.sqlStateOf("INSERT INTO _ayb_matview_refreshes (view_name) VALUES ('" + view + "')"));
            assertEquals("public|standard", db.queryString("SELECT schema_name || '|' || refresh_mode"
                    + " FROM _ayb_matview_refreshes WHERE view_name = '" + view + "'"));
            assertEquals(UNIQUE_VIOLATION, db.sqlStateOf(INSERT + "('public', '" + view + "', 'concurrent')"));
            db.exec("DELETE FROM _ayb_matview_refreshes WHERE view_name = '" + view + "'");
        }
    }
}
