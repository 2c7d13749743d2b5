package dev.matviews.metrics;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

/** Prometheus metrics after real refreshes, and staleness in the JSON and its health group. */
@QuarkusTest
class MetricsTest {

    @Inject
    FreshnessPoller poller;

    private static String metrics() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    @Test
    void refreshOutcomesContentionAndFreshnessAreExported() {
        String mv = TestDb.uniqueName("metric");
        String t = TestDb.uniqueName("t");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id;"
                + "CREATE TABLE public." + t + " (x int); INSERT INTO public." + t + " VALUES (1);"
                + "CREATE MATERIALIZED VIEW public." + mv + "_f AS SELECT 1 / x AS q FROM public." + t + ";"
                + "UPDATE public." + t + " SET x = 0");
        String id = Api.register("public", mv, "standard");
        String failing = Api.register("public", mv + "_f", "standard");
        Api.refresh(id).statusCode(200);
        Api.refresh(failing).statusCode(500);
        try (TestDb other = TestDb.open()) {
            other.lockView("public", mv);
            Api.refresh(id).statusCode(409);
            other.unlockView("public", mv);
        }
        poller.poll().await().atMost(Duration.ofSeconds(10));

        String text = metrics();
        String view = "view=\"public." + mv + "\"";
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_refresh_duration_seconds_count\\{[^}]*mode=\"standard\""
                + "[^}]*outcome=\"success\"[^}]*trigger=\"manual\"[^}]*} [1-9][0-9]*\\.0.*"));
        org.hamcrest.MatcherAssert.assertThat("no histogram per view", text,
                not(matchesPattern("(?s).*matviews_refresh_duration_seconds_bucket\\{[^}]*view=.*")));
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_refresh_duration_seconds_bucket\\{.*"));
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_refreshes_total\\{[^}]*outcome=\"error\"[^}]*trigger=\"manual\".*"));
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_refresh_lock_contention_total\\{[^}]*trigger=\"manual\"[^}]*} [1-9][0-9]*\\.0.*"));
        org.hamcrest.MatcherAssert.assertThat(text, containsString("matviews_refreshes_in_flight"));
        org.hamcrest.MatcherAssert.assertThat(text, containsString("matviews_jobs_queued"));
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_view_staleness_seconds\\{" + view.replace(".", "\\.") + "}.*"));
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_view_last_success_timestamp_seconds\\{" + view.replace(".", "\\.") + "}.*"));
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_view_last_refresh_duration_seconds\\{" + view.replace(".", "\\.") + "}.*"));
        org.hamcrest.MatcherAssert.assertThat(text, matchesPattern("(?s).*matviews_views_registered [1-9].*"));
    }

    @Test
    void aViewOlderThanItsMaxStalenessIsReportedStaleWithoutMakingThePodUnready() {
        String mv = TestDb.uniqueName("stale");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = given().contentType(ContentType.JSON).body("{\"viewName\":\"" + mv + "\",\"maxStalenessSeconds\":3600}")
                .post(Api.BASE).then().statusCode(201)
                .body("maxStalenessSeconds", equalTo(3600)).body("stale", equalTo(true)).extract().path("id");
        given().get("/q/health/group/staleness").then().statusCode(503).body("checks[0].data.stale", containsString(mv));
        given().get("/q/health/ready").then().statusCode(200);
        poller.poll().await().atMost(Duration.ofSeconds(10));
        org.hamcrest.MatcherAssert.assertThat(metrics(), matchesPattern("(?s).*matviews_views_stale [1-9].*"));

        Api.refresh(id).statusCode(200).body("registration.stale", equalTo(false));
        given().get("/q/health/group/staleness").then().statusCode(200);
        given().contentType(ContentType.JSON).body("{\"maxStalenessSeconds\":0}").put(Api.BASE + "/" + id)
                .then().statusCode(400);
        given().contentType(ContentType.JSON).body("{\"maxStalenessSeconds\":null}").put(Api.BASE + "/" + id)
                .then().statusCode(200).body("maxStalenessSeconds", equalTo(null)).body("stale", equalTo(false));
    }

    @Test
    void theSqlPoolIsGaugedAsAPoolNotByWhicheverConnectionCameFirst() {
        String text = metrics();
        // Registered once per connection under one id (SqlConnectionGauges): left out.
        org.hamcrest.MatcherAssert.assertThat(text, not(containsString("postgresql_queue_size")));
        org.hamcrest.MatcherAssert.assertThat(text, not(containsString("postgresql_current")));
        // The pool's gauges and the clients' timers stay, the LISTEN connections' named apart.
        org.hamcrest.MatcherAssert.assertThat(text, containsString("sql_pool_queue_size{"));
        org.hamcrest.MatcherAssert.assertThat(text, containsString("sql_pool_active{"));
        org.hamcrest.MatcherAssert.assertThat(text, containsString("postgresql_processing_seconds_count{clientName=\"<default>\""));
        org.hamcrest.MatcherAssert.assertThat(text, containsString("postgresql_processing_seconds_count{clientName=\"listen\""));
        org.hamcrest.MatcherAssert.assertThat(text, not(containsString("\n_")));
    }
}
