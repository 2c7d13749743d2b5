package dev.matviews.bench;

import dev.matviews.support.Api;
import dev.matviews.support.Browser;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The console with 1,000 registrations, in headless Chromium: not a test, a measurement, run on
 * purpose with {@code ./mvnw test -Dgroups=benchmark -DexcludedGroups=none -Dtest=ConsoleBenchmark}.
 * Reports the bytes over the wire for the first view (Resource Timing transferSize of the
 * document, script, stylesheet, session and list, as received: compressed where the service
 * compresses) with the browser cache off and on, and the time from opening the page to the whole
 * list shown (the page's own performance mark), over several loads; written to
 * target/benchmark-console.txt.
 */
@QuarkusTest
@Tag("benchmark")
@EnabledIf(value = "dev.matviews.support.Browser#usable", disabledReason = Browser.MISSING)
class ConsoleBenchmark {

    private static final int VIEWS = Integer.getInteger("benchmark.views", 1000);
    private static final int LOADS = Integer.getInteger("benchmark.loads", 7);

    @TestHTTPResource("/")
    URL console;

    @Test
    void measure() throws Exception {
        TestDb.runAsSuperuser("CREATE SCHEMA IF NOT EXISTS consolebench AUTHORIZATION matviews_svc");
        // 50 tables, and views in chains of four over them (each reads its table and the view before it):
        // for the graph, one part of 1,050 relations, the hardest shape for a layered drawing
        TestDb.run("DO $$ BEGIN FOR i IN 1..50 LOOP"
                + " EXECUTE format('CREATE TABLE IF NOT EXISTS consolebench.t%s AS SELECT %s AS id', i, i); END LOOP;"
                + " FOR i IN 1.." + VIEWS + " LOOP"
                + " EXECUTE format('CREATE MATERIALIZED VIEW IF NOT EXISTS consolebench.v%s AS SELECT id FROM consolebench.t%s%s',"
                + " i, i % 50 + 1, CASE WHEN i % 4 <> 1 THEN format(' UNION ALL SELECT id FROM consolebench.v%s', i - 1)"
                + " ELSE '' END); END LOOP; END $$");
        long registered = TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes");
        for (int i = 1; registered < VIEWS && i <= VIEWS; i++) {
            Api.register("consolebench", "v" + i, "standard");
            registered++;
        }
        long total = TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes");
        List<String> report = new ArrayList<>();
        try (Browser browser = Browser.start()) {
            var driver = browser.driver();
            driver.executeCdpCommand("Network.enable", Map.of());
            for (boolean cached : new boolean[]{false, true}) {
                driver.executeCdpCommand("Network.setCacheDisabled", Map.of("cacheDisabled", !cached));
                List<Double> shown = new ArrayList<>();
                long bytes = 0;
                String parts = "";
                for (int load = 0; load < LOADS; load++) {
                    browser.open("about:blank");
                    browser.open(console.toString() + "#/views");
                    browser.until(d -> browser.script("return performance.getEntriesByName('matviews:list-shown').length") instanceof Long n && n > 0);
                    shown.add(((Number) browser.script("return performance.getEntriesByName('matviews:list-shown')[0].startTime")).doubleValue());
                    assertEquals(total, ((Number) browser.script("return document.querySelectorAll('#views tbody tr').length")).longValue());
                    @SuppressWarnings("unchecked")
                    List<Map<String, Object>> entries = (List<Map<String, Object>>) browser.script(
                            "return [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]"
                                    + ".filter(e => !e.name.includes('/events'))"
                                    + ".map(e => ({name: new URL(e.name).pathname, transfer: e.transferSize, body: e.decodedBodySize}))");
                    bytes = entries.stream().mapToLong(e -> ((Number) e.get("transfer")).longValue()).sum();
                    parts = entries.stream().map(e -> e.get("name") + " " + e.get("transfer") + " B (" + e.get("body") + " B decoded)")
                            .reduce((a, b) -> a + ", " + b).orElse("");
                }
                List<Double> sorted = shown.stream().sorted().toList();
                report.add(String.format("%s, %d registrations: list shown after p50 %.0f ms (min %.0f, max %.0f; %d loads);"
                                + " %d bytes over the wire: %s", cached ? "browser cache on" : "browser cache off", total,
                        sorted.get(sorted.size() / 2), sorted.get(0), sorted.get(sorted.size() - 1), LOADS, bytes, parts));
            }
            browser.screenshot("ConsoleBenchmark-" + total + "-views");
            driver.executeCdpCommand("Network.setCacheDisabled", Map.of("cacheDisabled", false));
            // the graph: from opening the page to the graph drawn (the page's own mark). The first
            // load lays it out (the service warmed ELK up at start); later loads find it remembered;
            // after a view is added, its shape is new and it is laid out again.
            List<String> graph = new ArrayList<>();
            graph.add("first " + graphShown(browser));
            List<Double> again = new ArrayList<>();
            for (int load = 0; load < LOADS; load++) {
                again.add(graphShown(browser));
            }
            graph.add("remembered p50 " + again.stream().sorted().toList().get(LOADS / 2) + " (" + again + ")");
            TestDb.run("CREATE MATERIALIZED VIEW IF NOT EXISTS consolebench.extra AS SELECT id FROM consolebench.v1");
            Api.register("consolebench", "extra", "standard");
            graph.add("after a view was added " + graphShown(browser));
            report.add(String.format("graph of %s relations and %s edges (%s registered): shown after (ms) %s; %s",
                    browser.script("return document.querySelectorAll('#graph-box .node').length"),
                    browser.script("return document.querySelectorAll('#graph-box .edge').length"), total + 1,
                    String.join(", ", graph), browser.find("#graph-summary").getDomAttribute("title")));
            browser.screenshot("ConsoleBenchmark-graph");
        }
        Path out = Path.of("target", "benchmark-console.txt");
        Files.write(out, report);
        report.forEach(System.out::println);
    }

    private double graphShown(Browser browser) {
        browser.open("about:blank");
        browser.open(console + "#/graph");
        browser.until(d -> browser.script("return performance.getEntriesByName('matviews:graph-shown').length") instanceof Long n && n > 0);
        return Math.round(((Number) browser.script("return performance.getEntriesByName('matviews:graph-shown')[0].startTime"))
                .doubleValue());
    }
}
