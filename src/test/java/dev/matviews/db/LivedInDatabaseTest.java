package dev.matviews.db;

import io.quarkus.test.junit.QuarkusTest;

/**
 * The lived-in checks on the database every test here uses (PostgreSQL of the postgres.version
 * property), which is built like that before the service first starts.
 */
@QuarkusTest
class LivedInDatabaseTest extends LivedInChecks {
}
