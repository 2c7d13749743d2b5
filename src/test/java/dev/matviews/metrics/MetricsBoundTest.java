package dev.matviews.metrics;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-view series are bounded by matviews.metrics.max-views, whatever the number of
 * registrations: the stale views get theirs first, and the totals still count every view.
 */
@QuarkusTest
@TestProfile(MetricsBoundTest.TwoViews.class)
class MetricsBoundTest {

    public static class TwoViews implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("matviews.metrics.max-views", "2", "matviews.scheduler.enabled", "false");
        }
    }

    @Inject
    FreshnessPoller poller;

    private static long count(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        long n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void perViewSeriesStayWithinTheBoundAndStaleViewsComeFirst() {
        String stale = TestDb.uniqueName("stale");
        TestDb.run("CREATE MATERIALIZED VIEW public." + stale + " AS SELECT 1 AS id");
        String staleId = given().contentType(ContentType.JSON).body(Map.of("viewName", stale, "maxStalenessSeconds", 60))
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        for (int i = 0; i < 5; i++) {
            String mv = TestDb.uniqueName("many");
            TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
            Api.refresh(Api.register("public", mv, "standard")).statusCode(200);
        }
        long registered = TestDb.count("SELECT count(*) FROM _ayb_matview_refreshes");
        poller.poll().await().atMost(Duration.ofSeconds(10));

        String text = given().get("/q/metrics").then().statusCode(200).extract().asString();
        long perView = count(text, "^matviews_view_staleness_seconds\\{")
                + count(text, "^matviews_view_last_success_timestamp_seconds\\{");
        assertTrue(count(text, "^matviews_view_last_refresh_duration_seconds\\{") <= 2, text);
        assertTrue(perView <= 4, "two views at most, two series each for views that succeeded: " + perView);
        assertTrue(count(text, "^matviews_view_[a-z_]+\\{view=\"public\\." + stale + "\"}") == 0
                        && text.contains("matviews_views_stale"),
                "the never refreshed stale view has no age, but it takes a place");
        assertEquals(1, count(text, "^matviews_views_registered " + registered + "\\.0$"), "every view counted");
        assertTrue(count(text, "^matviews_views_stale [1-9]") == 1, "the stale one counted");
        given().delete(Api.BASE + "/" + staleId).then().statusCode(204);
    }
}
