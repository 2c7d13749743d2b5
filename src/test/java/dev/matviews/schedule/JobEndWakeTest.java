package dev.matviews.schedule;

import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A job that ends is news to no other replica's scheduler; one queued again for a retry is (a
 * new due time). A burst of 1,000 finished jobs used to wake every replica 1,000 times.
 */
@QuarkusTest
class JobEndWakeTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Inject
    JobRepository jobs;
    @Inject
    Pool pool;

    @Test
    void onlyAJobQueuedAgainWakesTheSchedulers() throws Exception {
        // a type no scheduler of this service handles, so only this test claims and ends them
        String type = TestDb.uniqueName("wake_test");
        var config = ConfigProvider.getConfig();
        try (Connection listen = DriverManager.getConnection(config.getValue("quarkus.datasource.jdbc.url", String.class),
                config.getValue("quarkus.datasource.username", String.class),
                config.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
             Statement st = listen.createStatement()) {
            st.execute("LISTEN " + ScheduleRepository.CHANNEL);
            TestDb.run("INSERT INTO _ayb_jobs (type, payload) SELECT '" + type + "', '{}'::jsonb FROM generate_series(1, 3)");
            List<Job> claimed = jobs.claim(pool, "wake-test", 3, 60_000, new String[]{type}).await().atMost(WAIT);
            assertEquals(3, claimed.size());

            jobs.finish(pool, claimed.get(0).id(), "wake-test", JobState.COMPLETED, null, null, 0).await().atMost(WAIT);
            jobs.finish(pool, claimed.get(1).id(), "wake-test", JobState.FAILED, "broken", null, 0).await().atMost(WAIT);
            jobs.finish(pool, claimed.get(2).id(), "wake-test", JobState.QUEUED, "try again", null, 60_000)
                    .await().atMost(WAIT);

            // Notifications arrive in commit order: everything the three ends caused comes before the marker.
            String marker = "marker-" + type;
            TestDb.run("NOTIFY " + ScheduleRepository.CHANNEL + ", '" + marker + "'");
            List<String> received = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!received.contains(marker) && System.nanoTime() < deadline) {
                PGNotification[] batch = listen.unwrap(PGConnection.class).getNotifications(500);
                if (batch != null) {
                    for (PGNotification n : batch) {
                        received.add(n.getParameter());
                    }
                }
            }
            assertEquals(List.of("jobs", marker), received,
                    "one wake-up: the job queued again, none for the two that ended");
        } finally {
            TestDb.run("DELETE FROM _ayb_jobs WHERE type = '" + type + "'");
        }
    }
}
