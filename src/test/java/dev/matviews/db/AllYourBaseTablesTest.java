package dev.matviews.db;

import dev.matviews.support.OwnPostgres;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * matviews taking over a database where AllYourBase created _ayb_jobs and _ayb_job_schedules
 * (narrower columns, columns missing, a partial unique index on the idempotency key): the tables
 * are migrated in place, their rows stay, and the scheduler works on them.
 */
@QuarkusTest
@TestProfile(AllYourBaseTablesTest.AllYourBaseDatabase.class)
class AllYourBaseTablesTest {

    public static class AllYourBaseDatabase implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OwnPostgres.class, Map.of("setup", "allyourbase")));
        }
    }

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void theRowsAllYourBaseLeftStayAsTheyWere() {
        try (TestDb db = TestDb.open()) {
            assertEquals("completed failed canceled", db.queryString(
                "SELECT string_agg(state, ' ' ORDER BY id) FROM public._ayb_jobs WHERE id::text LIKE '10b00000%'"
                        + " AND id <> '10b00000-0000-0000-0000-000000000004'"));
            assertEquals("2026-11-03 09:00:00+00 manual-2026-11-03 3600000", db.queryString(
                    "SELECT canceled_at AT TIME ZONE 'UTC' || '+00 ' || idempotency_key || ' ' || max_runtime_ms"
                            + " FROM public._ayb_jobs WHERE id = '10b00000-0000-0000-0000-000000000003'"));
        }
        given().get("/api/admin/schedules").then().statusCode(200)
                .body("find { it.name == 'nightly_leaderboard' }.cronExpr", equalTo("0 3 * * *"))
                .body("find { it.name == 'nightly_leaderboard' }.timezone", equalTo("Europe/Berlin"))
                .body("find { it.name == 'nightly_leaderboard' }.missedRunPolicy", equalTo("run_once"));
        given().get("/api/admin/jobs/10b00000-0000-0000-0000-000000000002").then().statusCode(200)
                .body("type", equalTo("webhook_delivery")).body("attempts", equalTo(3));
    }

    @Test
    void theJobAllYourBaseLeftQueuedRuns() {
        await().atMost(WAIT).untilAsserted(() -> given().get("/api/admin/jobs/10b00000-0000-0000-0000-000000000004")
                .then().statusCode(200).body("state", equalTo("completed")));
        given().get("/api/admin/matviews").then().statusCode(200)
                .body("items.find { it.viewName == 'leaderboard' }.lastRefreshStatus", equalTo("success"));
    }

    @Test
    void schedulesFireIntoTheQueueWithItsPartialUniqueIndex() {
        // Longer than AllYourBase's name column (100) held.
        String name = "every-second-" + "x".repeat(120) + TestDb.uniqueName("s");
        String id = given().contentType(ContentType.JSON)
                .body(Map.of("name", name, "jobType", "materialized_view_refresh", "cronExpr", "@every 1s",
                        "payload", Map.of("view_name", "leaderboard"), "maxAttempts", 1))
                .post("/api/admin/schedules").then().statusCode(201).extract().path("id");
        await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM public._ayb_jobs WHERE schedule_id = '" + id
                + "' AND state = 'completed'") >= 2);
        given().delete("/api/admin/schedules/" + id).then().statusCode(204);
    }
}
