package dev.matviews.schedule;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.runs.RunService;
import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler against a real database. The application's own scheduler is off here: each test
 * starts the instances it needs, as separate replicas would run them.
 */
@QuarkusTest
@TestProfile(SchedulerTest.NoBuiltInScheduler.class)
class SchedulerTest {

    public static class NoBuiltInScheduler implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // Three simulated replicas of 4 workers share this JVM's refresh capacity; real replicas
            // each have their own, so give it room for all twelve (a capacity refusal would fail a
            // job of one attempt: a flake seen once in a full run).
            return Map.of("matviews.scheduler.enabled", "false", "matviews.refresh.max-concurrent", "12");
        }
    }

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Inject
    Vertx vertx;
    @Inject
    Pool pool;
    @Inject
    ScheduleRepository schedules;
    @Inject
    JobRepository jobs;
    @Inject
    RunService runs;
    @Inject
    MatviewRefreshJobHandler handler;
    @Inject
    dev.matviews.db.ListenConnection listen;
    @Inject
    dev.matviews.metrics.MatviewsMetrics metrics;
    @Inject
    JobMaintenance maintenance;

    private final List<JobScheduler> started = new ArrayList<>();

    @AfterEach
    void stopSchedulers() {
        started.forEach(JobScheduler::stop);
        started.clear();
        TestDb.run("UPDATE _ayb_job_schedules SET enabled = false; UPDATE _ayb_jobs SET state = 'canceled'"
                + " WHERE state IN ('queued', 'running')");
    }

    private JobScheduler scheduler(String name, Duration lease, Duration shutdownGrace) {
        return scheduler(name, lease, shutdownGrace, Duration.ofSeconds(5));
    }

    private JobScheduler scheduler(String name, Duration lease, Duration shutdownGrace, Duration retryBase) {
        return scheduler(name, lease, shutdownGrace, retryBase, 4);
    }

    private JobScheduler scheduler(String name, Duration lease, Duration shutdownGrace, Duration retryBase, int workers) {
        MatviewsConfig.Scheduler settings = new MatviewsConfig.Scheduler() {
            public boolean enabled() { return true; }
            public int workers() { return workers; }
            public Duration lease() { return lease; }
            public Duration missedGrace() { return Duration.ofSeconds(60); }
            public Duration maxSleep() { return Duration.ofSeconds(5); }
            public Duration shutdownGrace() { return shutdownGrace; }
            public Duration retryBase() { return retryBase; }
            public Duration retryCap() { return Duration.ofMinutes(5); }
        };
        JobScheduler scheduler = new JobScheduler(vertx, pool, schedules, jobs, runs, List.of(handler), settings, name, listen,
                metrics, null, null);
        scheduler.start();
        started.add(scheduler);
        return scheduler;
    }

    private JobScheduler scheduler(String name) {
        return scheduler(name, Duration.ofSeconds(30), Duration.ofSeconds(5));
    }

    private static String matview(String sql) {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS " + sql);
        return mv;
    }

    /** Enqueues a job directly, as a schedule would. */
    private static String job(String view, int maxAttempts) {
        String id = UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_jobs (id, type, payload, max_attempts) VALUES ('" + id
                + "', 'materialized_view_refresh', '{\"view_name\":\"" + view + "\"}', " + maxAttempts + ");"
                + " NOTIFY matviews_scheduler, 'jobs'");
        return id;
    }

    private static String state(String jobId) {
        return given().get("/api/admin/jobs/" + jobId).then().statusCode(200).extract().path("state");
    }

    private static void awaitState(String jobId, String state) {
        await().atMost(WAIT).until(() -> state.equals(state(jobId)));
    }

    @Test
    void threeSchedulersFireEachDueTimeExactlyOnce() {
        String mv = matview("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        scheduler("replica-a");
        scheduler("replica-b");
        scheduler("replica-c");
        String scheduleId = given().contentType(ContentType.JSON).body("{\"cronExpr\":\"* * * * * *\"}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200).extract().path("id");
        await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '"
                + scheduleId + "' AND state = 'completed'") >= 8);
        given().post("/api/admin/schedules/" + scheduleId + "/disable").then().statusCode(200);
        await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '"
                + scheduleId + "' AND state IN ('queued', 'running')") == 0);

        long jobsFired = TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + scheduleId + "'");
        long dueTimes = TestDb.count("SELECT count(DISTINCT run_at) FROM _ayb_jobs WHERE schedule_id = '" + scheduleId + "'");
        long scheduledRuns = TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                + id + "' AND trigger = 'schedule'");
        long retried = TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + scheduleId + "' AND attempts <> 1");
        long offGrid = TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + scheduleId
                + "' AND date_trunc('second', run_at) <> run_at");
        long workers = TestDb.count("SELECT count(DISTINCT split_part(r.instance_id, '/', 1)) FROM _ayb_matview_refresh_runs r"
                + " WHERE r.registration_id = '" + id + "'");
        assertEquals(dueTimes, jobsFired, "one job per due time");
        assertEquals(jobsFired, scheduledRuns, "one run per job");
        assertEquals(0, retried, "no job ran twice");
        assertEquals(0, offGrid, "due times are the cron's whole seconds");
        assertTrue(jobsFired >= 8, "fired " + jobsFired);
        assertTrue(workers >= 1);
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '"
                + id + "' AND status <> 'success'"));
    }

    @Test
    void allYourBasesOwnJobsAndSchedulesStayUntouchedThroughManyPassesOfThreeSchedulers() {
        // AllYourBase still runs on the same tables: its webhook job queued and due, one running
        // under a lease that has expired (its worker is slow), one finished long ago, and its own
        // schedule due now.
        String marker = TestDb.uniqueName("ayb");
        String queued = UUID.randomUUID().toString();
        String running = UUID.randomUUID().toString();
        String finished = UUID.randomUUID().toString();
        String foreignSchedule = UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_jobs (id, type, payload, state, run_at) VALUES ('" + queued
                + "', 'webhook_delivery', '{\"m\":\"" + marker + "\"}', 'queued', now() - interval '1 hour');"
                + " INSERT INTO _ayb_jobs (id, type, payload, state, attempts, worker_id, lease_until) VALUES ('" + running
                + "', 'webhook_delivery', '{\"m\":\"" + marker + "\"}', 'running', 1, 'ayb-worker', now() - interval '1 minute');"
                + " INSERT INTO _ayb_jobs (id, type, payload, state, attempts, completed_at) VALUES ('" + finished
                + "', 'email_send', '{\"m\":\"" + marker + "\"}', 'completed', 1, '2001-01-01');"
                + " INSERT INTO _ayb_job_schedules (id, name, job_type, payload, cron_expr, next_run_at) VALUES ('"
                + foreignSchedule + "', '" + marker + "', 'webhook_delivery', '{\"m\":\"" + marker + "\"}',"
                + " '* * * * * *', now() - interval '1 second'); NOTIFY matviews_scheduler, 'jobs'");
        String theirs = "SELECT coalesce(string_agg(row_to_json(j)::text, '|' ORDER BY id), '') FROM %s j"
                + " WHERE payload->>'m' = '" + marker + "'";
        String jobsBefore = TestDb.string(String.format(theirs, "_ayb_jobs"));
        String schedulesBefore = TestDb.string(String.format(theirs, "_ayb_job_schedules"));

        String mv = matview("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        JobScheduler a = scheduler("ayb-a");
        scheduler("ayb-b");
        scheduler("ayb-c");
        String scheduleId = given().contentType(ContentType.JSON).body("{\"cronExpr\":\"* * * * * *\"}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200).extract().path("id");
        // Every second a pass on each replica fires, claims and requeues; and retention runs.
        await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '"
                + scheduleId + "' AND state = 'completed'") >= 6);
        maintenance.applyRetention().await().atMost(WAIT);
        for (int i = 0; i < 20; i++) {
            a.wake();
        }
        given().post("/api/admin/jobs/" + queued + "/cancel").then().statusCode(409)
                .body("type", containsString("job-state")).body("detail", containsString("webhook_delivery"));
        given().post("/api/admin/jobs/" + finished + "/retry").then().statusCode(409)
                .body("detail", containsString("email_send"));
        given().post("/api/admin/schedules/" + scheduleId + "/disable").then().statusCode(200);

        assertEquals(jobsBefore, TestDb.string(String.format(theirs, "_ayb_jobs")), "AllYourBase's jobs");
        assertEquals(schedulesBefore, TestDb.string(String.format(theirs, "_ayb_job_schedules")),
                "AllYourBase's schedule");
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + foreignSchedule + "'"),
                "nothing fired from AllYourBase's schedule");
        TestDb.run("DELETE FROM _ayb_jobs WHERE payload->>'m' = '" + marker + "';"
                + " DELETE FROM _ayb_job_schedules WHERE payload->>'m' = '" + marker + "'");
    }

    @Test
    void aStoredScheduleThatCannotBeEvaluatedIsDisabledWithTheReasonNotLeftEnabledWithoutARun() {
        String mv = matview("SELECT 1 AS id");
        String id = UUID.randomUUID().toString();
        // written past the API's checks (by hand, by AllYourBase, or a zone the JVM no longer knows)
        TestDb.run("INSERT INTO _ayb_job_schedules (id, name, job_type, payload, cron_expr, timezone, next_run_at)"
                + " VALUES ('" + id + "', '" + TestDb.uniqueName("broken") + "', 'materialized_view_refresh',"
                + " '{\"view_name\":\"" + mv + "\"}', '61 * * * *', 'UTC', now() - interval '1 second')");
        scheduler("invalid-a");
        await().atMost(WAIT).untilAsserted(() -> given().get("/api/admin/schedules/" + id).then().statusCode(200)
                .body("enabled", equalTo(false)).body("lastError", containsString("cannot be evaluated")));
        given().get("/q/metrics").then().body(containsString("matviews_schedules_disabled_total"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + id + "'"));
        // saved again with a valid expression, it runs, and the reason is gone
        given().contentType(ContentType.JSON).body("{\"cronExpr\":\"0 0 * * *\",\"enabled\":true}")
                .put("/api/admin/schedules/" + id).then().statusCode(200)
                .body("enabled", equalTo(true)).body("lastError", equalTo(null));
        given().delete("/api/admin/schedules/" + id).then().statusCode(204);
    }

    @Test
    void aJobWhoseRunCouldNotBeRecordedOnItIsStillCancelledWithItsRefresh() {
        String slow = matview("SELECT 1 AS id FROM pg_sleep(8) WITH NO DATA");
        String trigger = TestDb.uniqueName("refuse_attach");
        // The database refuses to record the run on this view's job while it runs (attachRun).
        TestDb.runAsSuperuser("CREATE FUNCTION public." + trigger + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " IF NEW.payload->>'view_name' = '" + slow + "' AND OLD.state = 'running' AND NEW.state = 'running'"
                + " AND NEW.last_run_id IS DISTINCT FROM OLD.last_run_id THEN RAISE EXCEPTION 'refused by the test';"
                + " END IF; RETURN NEW; END $$; CREATE TRIGGER " + trigger + " BEFORE UPDATE ON public._ayb_jobs"
                + " FOR EACH ROW EXECUTE FUNCTION public." + trigger + "()");
        try {
            scheduler("attach-a", Duration.ofMillis(1500), Duration.ofSeconds(5));
            String jobId = job(slow, 1);
            await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf(slow) == 1);
            long start = System.nanoTime();
            given().post("/api/admin/jobs/" + jobId + "/cancel").then().statusCode(200);
            awaitState(jobId, "canceled");
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 6, "cancelled, not run to its end");
            assertEquals("cancelled", TestDb.string("SELECT status FROM _ayb_matview_refresh_runs r"
                    + " JOIN _ayb_matview_refreshes g ON g.id = r.registration_id WHERE g.view_name = '" + slow + "'"));
            given().get("/q/metrics").then().body(containsString("matviews_jobs_run_attach_failures_total"));
        } finally {
            TestDb.runAsSuperuser("DROP TRIGGER " + trigger + " ON public._ayb_jobs; DROP FUNCTION public." + trigger + "()");
        }
    }

    @Test
    void concurrentWorkersClaimEachQueuedJobOnce() {
        String mv = matview("SELECT 1 AS id");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add(job(mv, 1));
        }
        scheduler("claim-a");
        scheduler("claim-b");
        scheduler("claim-c");
        ids.forEach(job -> awaitState(job, "completed"));
        String list = String.join("','", ids);
        assertEquals(12, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE id IN ('" + list + "') AND attempts = 1"));
        assertEquals(12, TestDb.count("SELECT count(DISTINCT last_run_id) FROM _ayb_jobs WHERE id IN ('" + list + "')"));
    }

    @Test
    void aJobForAnUnregisteredViewRegistersItAndTwoJobsInARowBothRefresh() {
        String mv = matview("SELECT 1 AS id");
        scheduler("reg-a");
        String first = job(mv, 1);
        awaitState(first, "completed");
        String second = job(mv, 1);
        awaitState(second, "completed");
        assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes WHERE view_name = '" + mv + "'"));
        assertEquals(2, TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE view_name = '" + mv
                + "' AND trigger = 'schedule' AND status = 'success'"));
    }

    @Test
    void permanentErrorsFailAtOnceAndTransientOnesBackOff() {
        String table = TestDb.uniqueName("tbl");
        TestDb.run("CREATE TABLE public." + table + " (x int); INSERT INTO public." + table + " VALUES (1)");
        String noIndex = matview("SELECT 1 AS id");
        Api.register("public", noIndex, "concurrent");
        String failing = matview("SELECT 1 / x AS q FROM public." + table);
        TestDb.run("UPDATE public." + table + " SET x = 0");
        scheduler("err-a");

        String notAMatview = job(table, 5);
        String prerequisites = job(noIndex, 5);
        String transientJob = job(failing, 3);
        awaitState(notAMatview, "failed");
        awaitState(prerequisites, "failed");
        given().get("/api/admin/jobs/" + notAMatview).then().body("attempts", equalTo(1))
                .body("lastError", containsString("no materialized view"));
        given().get("/api/admin/jobs/" + prerequisites).then().body("attempts", equalTo(1))
                .body("lastError", containsString("unique index"));

        await().atMost(WAIT).until(() -> TestDb.count("SELECT attempts FROM _ayb_jobs WHERE id = '" + transientJob + "'") == 1
                && "queued".equals(state(transientJob)));
        long delayMs = TestDb.count("SELECT (extract(epoch FROM run_at - updated_at) * 1000)::bigint FROM _ayb_jobs"
                + " WHERE id = '" + transientJob + "'");
        assertTrue(delayMs >= 4900 && delayMs <= 6100, "first retry after 5 s plus at most 20 % jitter, was " + delayMs);
        given().get("/api/admin/jobs/" + transientJob).then().body("lastError", containsString("division by zero"));
    }

    @Test
    void backoffDoublesAndIsCapped() {
        JobScheduler s = scheduler("backoff");
        for (int attempt = 1; attempt <= 12; attempt++) {
            long expected = Math.min(300_000, 5_000L << (attempt - 1));
            long actual = s.backoff(attempt).toMillis();
            assertTrue(actual >= expected && actual <= expected * 6 / 5, attempt + ": " + actual);
        }
    }

    @Test
    void aViewBeingRefreshedElsewhereIsSkippedNotFailed() {
        String mv = matview("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        Api.refresh(id).statusCode(200);
        scheduler("skip-a");
        try (TestDb other = TestDb.open()) {
            other.lockView("public", mv);
            String job = job(mv, 3);
            awaitState(job, "completed");
            given().get("/api/admin/jobs/" + job).then().body("attempts", equalTo(1))
                    .body("lastError", containsString("skipped"));
            String runId = given().get("/api/admin/jobs/" + job).then().extract().path("lastRunId");
            given().get("/api/admin/matview-runs/" + runId).then().body("status", equalTo("skipped"))
                    .body("trigger", equalTo("schedule"));
            Api.get(id).body("lastRefreshStatus", equalTo("success"));
            other.unlockView("public", mv);
        }
    }

    @Test
    void anExpiredLeaseIsRequeuedAndALiveLeaseIsRenewed() {
        String mv = matview("SELECT 1 AS id");
        String stalled = UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_jobs (id, type, payload, state, attempts, max_attempts, worker_id, lease_until)"
                + " VALUES ('" + stalled + "', 'materialized_view_refresh', '{\"view_name\":\"" + mv + "\"}', 'running', 1, 3,"
                + " 'dead-replica', now() - interval '1 second')");
        String slow = matview("SELECT 1 AS id FROM pg_sleep(2.5) WITH NO DATA");
        scheduler("lease-a", Duration.ofMillis(900), Duration.ofSeconds(5));
        awaitState(stalled, "completed");
        given().get("/api/admin/jobs/" + stalled).then().body("attempts", equalTo(2));

        String longJob = job(slow, 3);
        awaitState(longJob, "completed");
        given().get("/api/admin/jobs/" + longJob).then().body("attempts", equalTo(1));
    }

    @Test
    void disabledSchedulesNeverFire() {
        String mv = matview("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        scheduler("disabled-a");
        String scheduleId = given().contentType(ContentType.JSON)
                .body("{\"cronExpr\":\"@every 1s\",\"enabled\":false}").put(Api.BASE + "/" + id + "/schedule")
                .then().statusCode(200).extract().path("id");
        await().pollDelay(Duration.ofMillis(2500)).atMost(WAIT).until(() -> true);
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + scheduleId + "'"));
    }

    @Test
    void missedRunsFollowTheirPolicy() {
        String mv = matview("SELECT 1 AS id");
        String runOnce = createSchedule(TestDb.uniqueName("once"), mv, "run_once");
        String skip = createSchedule(TestDb.uniqueName("skip"), mv, "skip");
        // every replica was down for ten minutes
        TestDb.run("UPDATE _ayb_job_schedules SET next_run_at = now() - interval '10 minutes' WHERE id IN ('"
                + runOnce + "', '" + skip + "')");
        scheduler("missed-a");
        await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM _ayb_job_schedules WHERE id IN ('" + runOnce
                + "', '" + skip + "') AND next_run_at > now()") == 2);
        await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + runOnce
                + "' AND state = 'completed'") == 1);
        assertEquals(1, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + runOnce + "'"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE schedule_id = '" + skip + "'"));
    }

    private static String createSchedule(String name, String view, String policy) {
        return given().contentType(ContentType.JSON).body("{\"name\":\"" + name + "\",\"jobType\":\"materialized_view_refresh\","
                        + "\"payload\":{\"view_name\":\"" + view + "\"},\"cronExpr\":\"@hourly\",\"missedRunPolicy\":\"" + policy + "\"}")
                .post("/api/admin/schedules").then().statusCode(201).extract().path("id");
    }

    @Test
    void jobsAreListedRetriedAndCancelled() {
        String mv = matview("SELECT 1 AS id");
        String slow = matview("SELECT 1 AS id FROM pg_sleep(30) WITH NO DATA");
        String queued = job(mv, 1);
        given().post("/api/admin/jobs/" + queued + "/cancel").then().statusCode(200).body("state", equalTo("canceled"));
        given().post("/api/admin/jobs/" + queued + "/cancel").then().statusCode(409).body("type", containsString("job-state"));
        given().post("/api/admin/jobs/" + queued + "/retry").then().statusCode(200).body("state", equalTo("queued"))
                .body("attempts", equalTo(0));
        given().get("/api/admin/jobs?state=queued&type=materialized_view_refresh").then().statusCode(200)
                .body("id", org.hamcrest.Matchers.hasItem(queued));
        given().get("/api/admin/jobs?state=sleeping").then().statusCode(400);
        given().get("/api/admin/jobs/" + UUID.randomUUID()).then().statusCode(404).body("type", containsString("job-not-found"));

        scheduler("steer-a");
        awaitState(queued, "completed");
        given().post("/api/admin/jobs/" + queued + "/retry").then().statusCode(409);

        String running = job(slow, 3);
        await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf(slow) == 1);
        await().atMost(WAIT).until(() -> given().get("/api/admin/jobs/" + running).then().extract().path("lastRunId") != null);
        given().post("/api/admin/jobs/" + running + "/cancel").then().statusCode(200);
        awaitState(running, "canceled");
        String runId = given().get("/api/admin/jobs/" + running).then().extract().path("lastRunId");
        given().get("/api/admin/matview-runs/" + runId).then().body("status", equalTo("cancelled"));
    }

    @Test
    void shutdownCancelsRunningRefreshesAfterTheGraceAndHandsTheirJobsBack() {
        String slow = matview("SELECT 1 AS id FROM pg_sleep(30) WITH NO DATA");
        JobScheduler leaving = scheduler("leaving", Duration.ofSeconds(30), Duration.ofMillis(500));
        String job = job(slow, 3);
        await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf(slow) == 1);
        await().atMost(WAIT).until(() -> given().get("/api/admin/jobs/" + job).then().extract().path("lastRunId") != null);
        String runId = given().get("/api/admin/jobs/" + job).then().extract().path("lastRunId");

        leaving.stop();
        started.remove(leaving);
        given().get("/api/admin/jobs/" + job).then().body("state", equalTo("queued")).body("attempts", equalTo(0))
                .body("workerId", org.hamcrest.Matchers.nullValue());
        given().get("/api/admin/matview-runs/" + runId).then().body("status", equalTo("cancelled"));
        assertEquals(0, TestDb.runningRefreshesOf(slow));
    }

    /**
     * Unregistering a view while its scheduled refresh runs: neither the running job (whose refresh
     * then fails, registration gone) nor its retries nor the schedule register it again.
     */
    @Test
    void aViewUnregisteredWhileItsScheduledRefreshRunsStaysUnregistered() {
        String slow = matview("SELECT 1 AS id FROM pg_sleep(1.5) WITH NO DATA");
        String id = Api.register("public", slow, "standard");
        given().contentType(ContentType.JSON).body("{\"cronExpr\":\"@every 1s\",\"maxAttempts\":5}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200);
        scheduler("unreg-a", Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofMillis(200));
        await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf(slow) == 1);

        given().delete(Api.BASE + "/" + id).then().statusCode(200);
        String registered = "SELECT count(*) FROM _ayb_matview_refreshes WHERE view_name = '" + slow + "'";
        await().during(Duration.ofSeconds(5)).atMost(WAIT).until(() -> TestDb.count(registered) == 0);
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE state IN ('queued', 'running')"
                + " AND payload ->> 'view_name' = '" + slow + "'"));
        assertEquals(0, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE state = 'failed'"
                + " AND payload ->> 'view_name' = '" + slow + "'"), "its jobs end canceled or completed, none retried");
    }

    /**
     * A worker that stalls past its lease (GC pause, SIGSTOP) loses the job: it is requeued, taken
     * again and finds the view locked by the stalled worker's refresh. That refresh must still end
     * and refresh the view; it was cancelled when the stalled worker noticed the lost lease.
     */
    @Test
    void aRefreshWhoseLeaseWasLostRunsToItsEnd() {
        String slow = matview("SELECT 1 AS id FROM pg_sleep(2) WITH NO DATA");
        String id = Api.register("public", slow, "standard");
        // One worker, busy with this job: the requeued job goes to the other replica.
        scheduler("stall-a", Duration.ofMillis(900), Duration.ofSeconds(5), Duration.ofSeconds(5), 1);
        String job = job(slow, 3);
        await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf(slow) == 1);
        String runId;
        try (TestDb db = TestDb.open()) {
            runId = db.queryString("SELECT id::text FROM _ayb_matview_refresh_runs WHERE view_name = '" + slow
                    + "' AND status = 'running'");
        }
        // What another replica's sweep does to a job whose worker stopped renewing it.
        TestDb.run("UPDATE _ayb_jobs SET state = 'queued', worker_id = NULL, lease_until = NULL,"
                + " run_at = clock_timestamp() WHERE id = '" + job + "'");
        scheduler("stall-b");

        await().atMost(WAIT).until(() -> !"running".equals(given().get("/api/admin/matview-runs/" + runId)
                .then().extract().path("status")));
        given().get("/api/admin/matview-runs/" + runId).then().body("status", equalTo("success"));
        Api.get(id).body("lastRefreshStatus", equalTo("success"));
        awaitState(job, "completed");
    }

    /** A stopping instance keeps renewing the leases of the jobs it waits for, so no replica takes them over. */
    @Test
    void leasesAreKeptWhileShutdownWaitsForRunningJobs() {
        String slow = matview("SELECT 1 AS id FROM pg_sleep(2) WITH NO DATA");
        JobScheduler leaving = scheduler("keep-a", Duration.ofMillis(900), Duration.ofSeconds(10));
        String job = job(slow, 3);
        await().atMost(WAIT).until(() -> TestDb.runningRefreshesOf(slow) == 1);
        scheduler("keep-b"); // requeues any lease that expires, and would take the job over
        leaving.stop();
        started.remove(leaving);
        given().get("/api/admin/jobs/" + job).then().body("state", equalTo("completed")).body("attempts", equalTo(1))
                .body("lastError", org.hamcrest.Matchers.nullValue());
    }
}
