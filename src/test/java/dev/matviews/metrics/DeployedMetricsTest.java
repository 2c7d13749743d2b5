package dev.matviews.metrics;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What deploy/ ships for operators names only metrics the service exposes: every metric the
 * Prometheus rules and the Grafana dashboard use is in /q/metrics, and promtool accepts the rules
 * (where Debian's prometheus package provides promtool; .ci/run installs it and requires this).
 */
@QuarkusTest
class DeployedMetricsTest {

    static final Path RULES = Path.of("deploy/prometheus/matviews-rules.yml");
    static final Path DASHBOARD = Path.of("deploy/grafana/matviews-dashboard.json");

    @Inject
    FreshnessPoller poller;

    static Set<String> named(Path file) throws IOException {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("\\bmatviews_[a-z0-9_]+").matcher(Files.readString(file));
        while (m.find()) {
            names.add(m.group().replaceAll("_(bucket|count|sum)$", ""));
        }
        return names;
    }

    static boolean exposed(String metrics, String name) {
        return Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{|\\s|_bucket\\{|_count\\{|_sum\\{)").matcher(metrics).find();
    }

    @Test
    void everyMetricTheRulesAndTheDashboardNameIsExposed() throws Exception {
        Set<String> named = named(RULES);
        named.addAll(named(DASHBOARD));
        assertTrue(named.size() >= 12, "the files name the metrics: " + named);
        // a view with a target, refreshed: its per-view series and the refresh counters exist
        String view = TestDb.uniqueName("deployed");
        TestDb.run("CREATE MATERIALIZED VIEW public." + view + " AS SELECT 1 AS x");
        String id = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"public\",\"viewName\":\"" + view + "\",\"targetLag\":\"10m\"}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        // the keeper refreshes a view with a target that was never refreshed (a manual refresh now would race it)
        await().atMost(Duration.ofSeconds(20)).until(() -> "success".equals(Api.get(id).extract().path("lastRefreshStatus")));
        poller.poll().await().atMost(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
            Set<String> missing = new TreeSet<>();
            for (String name : named) {
                if (!exposed(metrics, name)) {
                    missing.add(name);
                }
            }
            assertEquals(Set.of(), missing, "named in deploy/ but not exposed");
        });
        String metrics = given().get("/q/metrics").then().extract().asString();
        assertFalse(exposed(metrics, "matviews_no_such_metric"), "the check can tell a missing metric");
        assertTrue(metrics.contains("matviews_view_lag_seconds{view=\"public." + view + "\"}"), "the view's lag");
    }

    static boolean promtoolUsable() {
        return Files.isExecutable(Path.of("/usr/bin/promtool")) || "required".equals(System.getenv("MATVIEWS_PROMTOOL_TESTS"));
    }

    @Test
    @EnabledIf(value = "promtoolUsable", disabledReason = "no promtool here: sudo apt-get install prometheus")
    void promtoolAcceptsTheRules() throws Exception {
        Process p = new ProcessBuilder("promtool", "check", "rules", RULES.toString()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("SUCCESS"), out);
    }
}
