package dev.matviews.schedule;

import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Finished jobs are deleted by age and by count per schedule, in batches; unfinished ones never. */
@QuarkusTest
class JobMaintenanceTest {

    @Inject
    JobMaintenance maintenance;

    @Test
    void finishedJobsBeyondTheAgeOrTheCountPerScheduleAreDeletedAndUnfinishedOnesKept() {
        String name = TestDb.uniqueName("retention");
        String job = "'materialized_view_refresh'";
        String payload = "'{\"view_name\":\"" + name + "\"}'::jsonb";
        String schedule = given().contentType(ContentType.JSON).body("{\"name\":\"" + name + "\",\"jobType\":"
                        + "\"materialized_view_refresh\",\"payload\":{\"view_name\":\"x\"},\"cronExpr\":\"@yearly\","
                        + "\"enabled\":false}").post("/api/admin/schedules").then().statusCode(201).extract().path("id");
        // 1,200 completed jobs of the schedule, one a minute, the newest an hour ago ...
        TestDb.run("INSERT INTO _ayb_jobs (type, payload, state, schedule_id, created_at, completed_at)"
                + " SELECT " + job + ", " + payload + ", 'completed', '" + schedule + "',"
                + " now() - g * interval '1 minute' - interval '1 hour',"
                + " now() - g * interval '1 minute' - interval '1 hour' FROM generate_series(1, 1200) g");
        // ... older than all of those, still queued (not due for a year, so no worker takes them) or running: never deleted.
        TestDb.run("INSERT INTO _ayb_jobs (type, payload, state, schedule_id, created_at, run_at, completed_at)"
                + " SELECT " + job + ", " + payload + ", s, '" + schedule + "', now() - interval '30 days',"
                + " now() + interval '1 year', NULL FROM unnest(ARRAY['queued', 'running', 'queued']) s");
        // Jobs whose schedule was deleted: only age removes them.
        TestDb.run("INSERT INTO _ayb_jobs (type, payload, state, created_at, completed_at)"
                + " SELECT " + job + ", " + payload + ", s, now() - interval '9 days', now() - interval '8 days'"
                + " FROM unnest(ARRAY['failed', 'canceled', 'completed']) s;"
                + " INSERT INTO _ayb_jobs (type, payload, state, created_at, completed_at)"
                + " VALUES (" + job + ", " + payload + ", 'failed', now() - interval '2 days', now() - interval '2 days')");
        // AllYourBase's own finished jobs, old and many, on the same schedule: not matviews' to delete.
        String foreign = TestDb.uniqueName("webhook_delivery");
        TestDb.run("INSERT INTO _ayb_jobs (type, state, schedule_id, created_at, completed_at)"
                + " SELECT '" + foreign + "', 'completed', '" + schedule + "', now() - interval '30 days',"
                + " now() - interval '30 days' FROM generate_series(1, 5)");

        long deleted = maintenance.applyRetention().await().atMost(Duration.ofSeconds(60));

        String mine = "SELECT count(*) FROM _ayb_jobs WHERE payload->>'view_name' = '" + name + "'";
        assertEquals(1000, TestDb.count(mine + " AND schedule_id IS NOT NULL AND state = 'completed'"),
                "the newest 1,000 finished jobs of the schedule");
        assertEquals(3, TestDb.count(mine + " AND state IN ('queued', 'running')"));
        assertEquals(1, TestDb.count(mine + " AND schedule_id IS NULL"), "the one younger than 7 days");
        assertEquals(1, TestDb.count(mine + " AND schedule_id IS NULL AND completed_at > now() - interval '3 days'"));
        assertEquals(true, deleted >= 203, "deleted " + deleted);
        // The newest were kept.
        assertEquals(0, TestDb.count(mine + " AND state = 'completed' AND schedule_id IS NOT NULL"
                + " AND created_at < now() - interval '1 hour' - interval '1000 minutes' - interval '30 seconds'"));
        assertEquals(5, TestDb.count("SELECT count(*) FROM _ayb_jobs WHERE type = '" + foreign + "'"),
                "other job types are left alone");
        given().get("/api/admin/jobs?type=materialized_view_refresh&limit=500").then().statusCode(200);
    }

    @Test
    void theJobListIsServedByAnIndex() {
        assertEquals(1, TestDb.count("SELECT count(*) FROM pg_indexes WHERE indexname = '_ayb_jobs_created'"));
        assertEquals(1, TestDb.count("SELECT count(*) FROM pg_indexes WHERE indexname = '_ayb_jobs_finished'"));
    }
}
