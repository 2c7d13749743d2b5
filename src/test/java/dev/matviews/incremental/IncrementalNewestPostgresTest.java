package dev.matviews.incremental;

import dev.matviews.support.OwnPostgres;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import java.util.List;
import java.util.Map;

/** The incremental view checks on the newest supported PostgreSQL line (postgres.newest.version), as a plain role. */
@QuarkusTest
@TestProfile(IncrementalNewestPostgresTest.Newest.class)
class IncrementalNewestPostgresTest extends IncrementalViewTest {

    public static class Newest implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OwnPostgres.class, Map.of("binaries", "newest")));
        }
    }
}
