package dev.matviews.runs;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs orphaned by a dead instance become abandoned; old history is deleted in batches. */
@QuarkusTest
class RunMaintenanceTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    RunMaintenance maintenance;
    @Inject
    RunRepository runs;
    @Inject
    Pool pool;

    /** A run row as an instance writes it when a refresh starts, by the session {@code pid}. */
    private static String runningRun(String registrationId, String view, String pidSql, String backendStartSql) {
        String runId = UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_matview_refresh_runs (id, registration_id, schema_name, view_name, refresh_mode,"
                + " trigger, status, instance_id, backend_pid, backend_start, lock_key) VALUES ('" + runId + "', '"
                + registrationId + "', 'public', '" + view + "', 'standard', 'manual', 'running', 'dead-instance', "
                + pidSql + ", " + backendStartSql + ", 'public." + view + "'::regclass::oid::int4);"
                + " UPDATE _ayb_matview_refreshes SET current_run_id = '" + runId + "' WHERE id = '" + registrationId + "'");
        return runId;
    }

    private static void assertStatus(String runId, String status) {
        given().get("/api/admin/matview-runs/" + runId).then().statusCode(200).body("status", equalTo(status));
    }

    @Test
    void aRunWhoseSessionIsGoneAndWhoseLockIsFreeBecomesAbandoned() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        String runId;
        try (TestDb otherReplica = TestDb.open()) {
            // Locked before the orphan exists: the service's own periodic sweep (also run at
            // start-up) must not find it unlocked before this test means it to.
            otherReplica.lockView("public", mv);
            // pid 0 never names a backend: the instance and its session died mid-refresh
            runId = runningRun(id, mv, "0", "now() - interval '1 hour'");
            // started long ago: its duration does not fit in milliseconds as int4
            TestDb.run("UPDATE _ayb_matview_refresh_runs SET started_at = now() - interval '40 days' WHERE id = '"
                    + runId + "'");
            maintenance.abandonOrphans().await().atMost(WAIT);
            assertStatus(runId, "running");   // the view is being refreshed by someone: not orphaned yet
            otherReplica.unlockView("public", mv);
        }
        maintenance.abandonOrphans().await().atMost(WAIT);
        given().get("/api/admin/matview-runs/" + runId).then()
                .body("status", equalTo("abandoned"))
                .body("finishedAt", notNullValue())
                .body("error", containsString("abandoned"));
        Api.get(id).body("currentRunId", nullValue()).body("lastRefreshStatus", equalTo("error"));
        Api.refresh(id).statusCode(200);
    }

    @Test
    void sweepingWorksNextToOtherApplicationsAdvisoryLocks() {
        try (TestDb other = TestDb.open()) {
            // bigint locks (Flyway's kind) show up in pg_locks with objid values beyond int4
            other.exec("SELECT pg_advisory_lock(-1), pg_advisory_lock(4294967295)");
            maintenance.abandonOrphans().await().atMost(WAIT);
            given().contentType("application/json").when().get("/q/health/ready").then().statusCode(200);
        }
    }

    @Test
    void aRunWhoseSessionIsAliveIsLeftRunning() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        try (TestDb refreshing = TestDb.open()) {
            String runId = runningRun(id, mv, String.valueOf(refreshing.queryLong("SELECT pg_backend_pid()")),
                    "(SELECT backend_start FROM pg_stat_activity WHERE pid = " + refreshing.queryLong("SELECT pg_backend_pid()") + ")");
            maintenance.abandonOrphans().await().atMost(WAIT);
            assertStatus(runId, "running");
            TestDb.run("UPDATE _ayb_matview_refresh_runs SET status = 'cancelled', finished_at = now() WHERE id = '" + runId + "'");
        }
    }

    @Test
    void retentionDeletesOldRunsAndRunsBeyondTheCountPerViewButNeverRunningOnes() {
        String a = UUID.randomUUID().toString();
        String b = UUID.randomUUID().toString();
        String insert = "INSERT INTO _ayb_matview_refresh_runs (registration_id, schema_name, view_name, refresh_mode,"
                + " trigger, status, instance_id, started_at, finished_at) ";
        TestDb.run(insert + "SELECT '" + a + "', 'public', 'a', 'standard', 'manual', 'success', 'i',"
                + " now() - interval '40 days' - g * interval '1 minute', now() - interval '40 days' - g * interval '1 minute'"
                + " FROM generate_series(1, 3) g;"
                + insert + "SELECT '" + a + "', 'public', 'a', 'standard', 'manual', 'success', 'i', now() - g * interval '1 minute',"
                + " now() - g * interval '1 minute' FROM generate_series(1, 2) g;"
                + "INSERT INTO _ayb_matview_refresh_runs (registration_id, schema_name, view_name, refresh_mode, trigger,"
                + " status, instance_id, started_at) VALUES ('" + a + "', 'public', 'a', 'standard', 'manual', 'running', 'i',"
                + " now() - interval '41 days');"
                + insert + "SELECT '" + b + "', 'public', 'b', 'standard', 'manual', 'error', 'i', now() - g * interval '1 second',"
                + " now() - g * interval '1 second' FROM generate_series(1, 1003) g");

        maintenance.applyRetention().await().atMost(WAIT);

        assertEquals(3, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + a + "'"));
        assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + a
                + "' AND status = 'running'"));
        assertEquals(1000, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + b + "'"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + b
                + "' AND started_at < now() - interval '1000 seconds' - interval '500 milliseconds'"), "the oldest went");
    }

    @Test
    void retentionDeletesInBatchesOfTheGivenSize() {
        String c = UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_matview_refresh_runs (registration_id, schema_name, view_name, refresh_mode,"
                + " trigger, status, instance_id, started_at, finished_at) SELECT '" + c + "', 'public', 'c', 'standard',"
                + " 'manual', 'success', 'i', now() - interval '400 days', now() - interval '400 days'"
                + " FROM generate_series(1, 5) g");
        assertEquals(2, runs.deleteOlderThan(pool, Duration.ofDays(399), 2).await().atMost(WAIT));
        assertEquals(3, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + c + "'"));
        maintenance.applyRetention().await().atMost(WAIT);
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + c + "'"));
    }
}
