package dev.matviews.db;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** The lived-in checks on the newest supported PostgreSQL line (postgres.newest.version). */
@QuarkusTest
@TestProfile(LivedInNewestPostgresTest.Newest.class)
class LivedInNewestPostgresTest extends DedicatedLivedInChecks {

    public static class Newest extends OnServer {
        public Newest() {
            super("newest");
        }
    }

    @Override
    String expectedVersion() {
        return System.getProperty("test.postgres.newest.version");
    }
}
