package dev.matviews.db;

import dev.matviews.support.OwnPostgres;
import dev.matviews.support.Scripts;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTestProfile;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The lived-in checks on a server of another supported PostgreSQL line, started for these tests
 * alone, which also end with the documented uninstall.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class DedicatedLivedInChecks extends LivedInChecks {

    /** A lived-in database on a server of the given binaries ("oldest" or "newest"). */
    abstract static class OnServer implements QuarkusTestProfile {
        private final String binaries;

        OnServer(String binaries) {
            this.binaries = binaries;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OwnPostgres.class, Map.of("binaries", binaries)));
        }
    }

    /** The zonky binaries version of that line, as the build's properties name it (e.g. 14.19.0). */
    abstract String expectedVersion();

    @Test
    @Order(1)
    void runsOnThatPostgresLine() {
        String major = expectedVersion().substring(0, expectedVersion().indexOf('.'));
        assertEquals(major, String.valueOf(serverVersion() / 10000));
    }

    /** deploy/uninstall.sql, as README says: matviews' objects are gone, nothing else changed. */
    @Test
    @Order(Integer.MAX_VALUE)
    void uninstallDropsExactlyWhatMatviewsCreated() {
        try (TestDb db = TestDb.open()) {
            db.exec(Scripts.psql("deploy/uninstall.sql", Map.of("schema", "public")));
        }
        try (TestDb db = TestDb.openAsSuperuser()) {
            assertEquals(db.queryString("SELECT array_to_string(public_relations, ' ') FROM lived_in.baseline"),
                    db.queryString("SELECT array_to_string(array_agg(relname::text ORDER BY relname), ' ')"
                            + " FROM pg_class WHERE relnamespace = 'public'::regnamespace"));
        }
        assertApplicationUnchanged();
    }
}
