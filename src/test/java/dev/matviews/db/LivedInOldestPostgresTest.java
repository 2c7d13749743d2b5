package dev.matviews.db;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** The lived-in checks on the oldest supported PostgreSQL line (postgres.oldest.version). */
@QuarkusTest
@TestProfile(LivedInOldestPostgresTest.Oldest.class)
class LivedInOldestPostgresTest extends DedicatedLivedInChecks {

    public static class Oldest extends OnServer {
        public Oldest() {
            super("oldest");
        }
    }

    @Override
    String expectedVersion() {
        return System.getProperty("test.postgres.oldest.version");
    }
}
