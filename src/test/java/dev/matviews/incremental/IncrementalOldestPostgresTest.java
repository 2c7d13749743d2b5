package dev.matviews.incremental;

import dev.matviews.support.OwnPostgres;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import java.util.List;
import java.util.Map;

/** The incremental view checks on the oldest supported PostgreSQL line (postgres.oldest.version), as a plain role. */
@QuarkusTest
@TestProfile(IncrementalOldestPostgresTest.Oldest.class)
class IncrementalOldestPostgresTest extends IncrementalViewTest {

    public static class Oldest implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OwnPostgres.class, Map.of("binaries", "oldest")));
        }
    }
}
