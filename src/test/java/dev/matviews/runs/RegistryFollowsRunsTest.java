package dev.matviews.runs;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registry's outcome columns have one writer, the run history (migration V5): whatever mix of
 * refreshes, failures, cancels and lost locks happened, each registration shows its latest
 * finished run and no current run once nothing runs.
 */
@QuarkusTest
class RegistryFollowsRunsTest {

    @Inject
    RunMaintenance maintenance;

    /** Each registration against its latest finished run that is not skipped, by the database. */
    private static final String MISMATCHES = """
            SELECT count(*) FROM _ayb_matview_refreshes reg
             LEFT JOIN LATERAL (
                 SELECT run.* FROM _ayb_matview_refresh_runs run
                  WHERE run.registration_id = reg.id AND run.status NOT IN ('running', 'skipped')
                  ORDER BY run.finished_at DESC LIMIT 1) last ON true
             WHERE reg.view_name = ANY (string_to_array('%s', ','))
               AND (reg.current_run_id IS NOT NULL
                    OR reg.last_refresh_at IS DISTINCT FROM last.finished_at
                    OR reg.last_refresh_duration_ms IS DISTINCT FROM last.duration_ms
                    OR reg.last_refresh_error IS DISTINCT FROM last.error
                    OR reg.last_refresh_status IS DISTINCT FROM
                       CASE WHEN last.status = 'success' THEN 'success' WHEN last.status IS NOT NULL THEN 'error' END
                    OR reg.last_success_at IS DISTINCT FROM (SELECT max(finished_at) FROM _ayb_matview_refresh_runs s
                                                             WHERE s.registration_id = reg.id AND s.status = 'success'))""";

    @Test
    void underConcurrentRefreshesFailuresAndCancelsEveryRegistrationShowsItsLatestRun() throws Exception {
        List<String> views = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String mv = TestDb.uniqueName("follow");
            // every third refresh of a view fails (division by zero); each takes a moment
            TestDb.run("CREATE SEQUENCE public." + mv + "_n; CREATE MATERIALIZED VIEW public." + mv
                    + " AS SELECT 1 / (nextval('public." + mv + "_n') % 3)::int AS id FROM pg_sleep(0.02) WITH NO DATA");
            views.add(mv);
            ids.add(Api.register("public", mv, "standard"));
        }
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                String id = ids.get(i % ids.size());
                done.add(clients.submit(() -> {
                    if (ThreadLocalRandom.current().nextInt(4) == 0) {
                        // cancel whatever runs now, if anything
                        String runId = given().get("/api/admin/matviews/" + id).then().extract().path("currentRunId");
                        if (runId != null) {
                            given().post("/api/admin/matview-runs/" + runId + "/cancel").then()
                                    .statusCode(org.hamcrest.Matchers.oneOf(202, 409));
                        }
                    }
                    int status = given().post("/api/admin/matviews/" + id + "/refresh").then().extract().statusCode();
                    // success, busy or cancelled, or failed
                    assertTrue(status == 200 || status == 409 || status == 500, "refresh answered " + status);
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        assertTrue(TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE status = 'error'"
                + " AND view_name = ANY (string_to_array('" + String.join(",", views) + "', ','))") > 0,
                "some refreshes failed");
        assertEquals(0, TestDb.count(MISMATCHES.formatted(String.join(",", views))));
    }

    @Test
    void anOrphanFoundAfterALaterSuccessLeavesTheOutcomeAlone() {
        String mv = TestDb.uniqueName("follow");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        // a run of an instance that died long ago, never swept; then a refresh succeeds
        TestDb.run("INSERT INTO _ayb_matview_refresh_runs (registration_id, schema_name, view_name, refresh_mode, trigger,"
                + " status, instance_id, backend_pid, backend_start, lock_key, started_at) VALUES ('" + id + "', 'public', '"
                + mv + "', 'standard', 'manual', 'running', 'dead-instance', 0, now() - interval '1 hour',"
                + " 'public." + mv + "'::regclass::oid::int4, now() - interval '1 hour')");
        Api.refresh(id).statusCode(200);
        assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes WHERE id = '" + id + "'"
                + " AND last_refresh_status = 'success' AND current_run_id IS NULL"));
        maintenance.abandonOrphans().await().atMost(Duration.ofSeconds(10));
        assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + id
                + "' AND status = 'abandoned'"), "the orphan is swept");
        assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes WHERE id = '" + id + "'"
                + " AND last_refresh_status = 'success' AND last_refresh_error IS NULL"), "the later success stands");
    }

    /**
     * A failure recorded late, through another connection after its own broke, while the view was
     * refreshed again meanwhile: the registry keeps the newer success.
     */
    @Test
    void aLateFailureRecordDoesNotOverwriteANewerSuccess() {
        String mv = TestDb.uniqueName("late");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        String columns = "INSERT INTO _ayb_matview_refresh_runs (id, registration_id, schema_name, view_name, refresh_mode,"
                + " trigger, status, instance_id, started_at) VALUES ";
        String older = java.util.UUID.randomUUID().toString();
        String newer = java.util.UUID.randomUUID().toString();
        TestDb.run(columns + "('" + older + "', '" + id + "', 'public', '" + mv + "', 'standard', 'manual', 'running',"
                + " 'replica-a', clock_timestamp() - interval '10 seconds')");
        TestDb.run(columns + "('" + newer + "', '" + id + "', 'public', '" + mv + "', 'standard', 'manual', 'running',"
                + " 'replica-b', clock_timestamp() - interval '5 seconds')");
        TestDb.run("UPDATE _ayb_matview_refresh_runs SET status = 'success', finished_at = clock_timestamp(),"
                + " duration_ms = 5000 WHERE id = '" + newer + "'");
        TestDb.run("UPDATE _ayb_matview_refresh_runs SET status = 'error', error = 'connection lost',"
                + " finished_at = clock_timestamp(), duration_ms = 10000 WHERE id = '" + older + "'");
        Api.get(id).statusCode(200)
                .body("lastRefreshStatus", org.hamcrest.Matchers.equalTo("success"))
                .body("lastRefreshDurationMs", org.hamcrest.Matchers.equalTo(5000))
                .body("lastRefreshError", org.hamcrest.Matchers.nullValue());
    }
}
