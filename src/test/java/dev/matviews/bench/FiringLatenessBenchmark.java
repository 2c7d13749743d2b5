package dev.matviews.bench;

import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/**
 * Firing lateness with 1,000 schedules: not a test, a measurement, run on purpose with
 * {@code ./mvnw test -Dgroups=benchmark -DexcludedGroups=none -Dtest=FiringLatenessBenchmark}.
 * Schedule i fires at second i % 60 of every minute (about 17 firings due at the same instant
 * every second) and refreshes tiny matview (i / 60) % 20, so that simultaneous firings hit
 * different views. The profile gives the instance enough workers for such a burst. Reports, over every firing in the window, how late the job was
 * enqueued after its due time and how late its refresh run started; written to
 * target/benchmark-firing-lateness.txt.
 */
@QuarkusTest
@Tag("benchmark")
@TestProfile(FiringLatenessBenchmark.Workers.class)
class FiringLatenessBenchmark {

    public static class Workers implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("matviews.scheduler.workers", System.getProperty("benchmark.workers", "20"),
                    "matviews.refresh.max-concurrent", "24", "quarkus.datasource.reactive.max-size", "32");
        }
    }

    private static final int SCHEDULES = 1000;
    private static final int VIEWS = 20;
    private static final Duration WINDOW = Duration.ofSeconds(Long.getLong("benchmark.seconds", 120));
    /** burst: due at whole seconds, 17 at once; spread: @every 60s, offsets 60 ms apart. */
    private static final boolean SPREAD = Boolean.getBoolean("benchmark.spread");

    @Test
    void measure() throws Exception {
        StringBuilder setup = new StringBuilder("CREATE SCHEMA IF NOT EXISTS bench;");
        for (int v = 0; v < VIEWS; v++) {
            setup.append("CREATE MATERIALIZED VIEW IF NOT EXISTS bench.v").append(v)
                    .append(" AS SELECT g AS id FROM generate_series(1, 10) g;");
        }
        setup.append("INSERT INTO _ayb_job_schedules (name, job_type, payload, cron_expr, next_run_at)"
                + " SELECT 'bench-' || i, 'materialized_view_refresh',"
                + " jsonb_build_object('schema', 'bench', 'view_name', 'v' || ((i / 60) % " + VIEWS + ")),"
                + (SPREAD ? " '@every 60s'," : " (i % 60) || ' * * * * *',")
                + " date_trunc('minute', now()) + interval '1 minute' + "
                + (SPREAD ? "i * interval '60 milliseconds'" : "(i % 60) * interval '1 second'")
                + " FROM generate_series(0, " + (SCHEDULES - 1) + ") i;"
                + "NOTIFY matviews_scheduler, 'schedules'");
        TestDb.run(setup.toString());
        long started = System.nanoTime();
        String where = " FROM _ayb_jobs j JOIN _ayb_job_schedules s ON s.id = j.schedule_id WHERE s.name LIKE 'bench-%'";
        long expected = SCHEDULES * WINDOW.toSeconds() / 60;
        // every schedule first fires in the next minute; then the window runs
        await().atMost(WINDOW.plusSeconds(120)).pollInterval(Duration.ofSeconds(1))
                .until(() -> TestDb.count("SELECT count(*)" + where) >= expected);
        TestDb.run("UPDATE _ayb_job_schedules SET enabled = false WHERE name LIKE 'bench-%'");
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                .until(() -> TestDb.count("SELECT count(*)" + where + " AND j.state IN ('queued', 'running')") == 0);

        long fired = TestDb.count("SELECT count(*)" + where);
        String enqueue = percentiles("(extract(epoch FROM j.created_at - j.run_at) * 1000)", where);
        String start = percentiles("(extract(epoch FROM r.started_at - j.run_at) * 1000)",
                " FROM _ayb_jobs j JOIN _ayb_job_schedules s ON s.id = j.schedule_id"
                        + " JOIN _ayb_matview_refresh_runs r ON r.id = j.last_run_id WHERE s.name LIKE 'bench-%'");
        long completed = TestDb.count("SELECT count(*)" + where + " AND j.state = 'completed'");
        long skipped = TestDb.count("SELECT count(*)" + where + " AND j.last_error LIKE 'skipped%'");
        String report = "firing lateness, " + SCHEDULES + " schedules, " + VIEWS + " views, "
                + System.getProperty("benchmark.workers", "20") + " workers, " + (SPREAD ? "spread" : "burst")
                + ", window " + WINDOW.toSeconds()
                + " s, elapsed " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s\n"
                + "jobs fired: " + fired + ", completed: " + completed + " (skipped as busy: " + skipped + ")\n"
                + "enqueued after due (ms): " + enqueue + "\n"
                + "refresh run started after due (ms): " + start + "\n";
        System.out.println(report);
        Files.writeString(Path.of("target", "benchmark-firing-lateness.txt"), report);
        TestDb.run("DELETE FROM _ayb_job_schedules WHERE name LIKE 'bench-%'");
    }

    private static String percentiles(String expr, String from) throws IOException {
        try (TestDb db = TestDb.open()) {
            return db.queryString("SELECT format('p50 %s, p90 %s, p99 %s, max %s',"
                    + " round(percentile_cont(0.5) WITHIN GROUP (ORDER BY " + expr + ")::numeric, 1),"
                    + " round(percentile_cont(0.9) WITHIN GROUP (ORDER BY " + expr + ")::numeric, 1),"
                    + " round(percentile_cont(0.99) WITHIN GROUP (ORDER BY " + expr + ")::numeric, 1),"
                    + " round(max(" + expr + ")::numeric, 1))" + from);
        }
    }
}
