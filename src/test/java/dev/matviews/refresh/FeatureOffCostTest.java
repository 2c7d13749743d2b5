package dev.matviews.refresh;

import dev.matviews.config.InstanceId;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.BackendCancel;
import dev.matviews.db.DatabaseConnectOptions;
import dev.matviews.metrics.MatviewsMetrics;
import dev.matviews.support.Api;
import dev.matviews.support.LivedInDatabase;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.spi.PgDriver;
import io.vertx.sqlclient.PoolOptions;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A feature that is off costs nothing: a refresh of a registration without skipUnchanged calls
 * none of change tracking's functions (the skip check, the change state with its source walk), counted
 * by PostgreSQL itself (track_functions) on a connection of its own, next to a skipUnchanged
 * registration that does call them, which shows the counting works.
 */
@QuarkusTest
class FeatureOffCostTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** The skip check and the change state, which walks the view's sources (that SQL function may be inlined). */
    private static final List<String> TRACKING_FUNCTIONS = List.of("_matviews_refresh_needed", "_matviews_change_state");

    @Inject
    BackendCancel canceller;
    @Inject
    Vertx vertx;
    @Inject
    DatabaseConnectOptions connectOptions;
    @Inject
    RefreshRepository repository;
    @Inject
    MatviewsConfig config;
    @Inject
    InstanceId instanceId;
    @Inject
    MatviewsMetrics metrics;
    @Inject
    Pool servicePool;

    /** Calls of change tracking's functions counted so far, by function name. */
    private static Map<String, Long> calls() {
        Map<String, Long> calls = new java.util.HashMap<>();
        for (String function : TRACKING_FUNCTIONS) {
            calls.put(function, TestDb.count("SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions"
                    + " WHERE funcname = '" + function + "'"));
        }
        return calls;
    }

    @Test
    void aRefreshWithoutSkipUnchangedCallsNoChangeTrackingFunction() {
        String plain = TestDb.uniqueName("off");
        String tracked = TestDb.uniqueName("on");
        TestDb.run("CREATE TABLE public." + tracked + "_t (k int); INSERT INTO public." + tracked + "_t VALUES (1);"
                + " CREATE MATERIALIZED VIEW public." + tracked + " AS SELECT count(*) AS n FROM public." + tracked + "_t;"
                + " CREATE MATERIALIZED VIEW public." + plain + " AS SELECT g AS id FROM generate_series(1, 10) g");
        String plainId = Api.register("public", plain, "standard");
        String trackedId = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"public\",\"viewName\":\"" + tracked + "\",\"skipUnchanged\":true}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        given().post(Api.BASE + "/" + trackedId + "/change-tracking").then().statusCode(200);

        servicePool.query("SELECT 1").execute().await().atMost(WAIT); // the pool exists, so do its options
        // Only this connection counts function calls (track_functions is the superuser's to set).
        PgConnectOptions options = connectOptions.copy().setUser(LivedInDatabase.SUPERUSER).setPassword("")
                .addProperty("track_functions", "all");
        Pool pool = Pool.newInstance(PgDriver.INSTANCE.createPool(vertx.getDelegate(), List.of(options),
                new PoolOptions().setMaxSize(1)));
        RefreshService service = new RefreshService(pool, repository, config, instanceId, metrics, canceller,
                new RefreshAdmission(config, instanceId, metrics));
        Map<String, Long> before = calls();
        try {
            for (int i = 0; i < 10; i++) {
                assertInstanceOf(RefreshOutcome.Refreshed.class, service.refresh(UUID.fromString(plainId)).await().atMost(WAIT));
            }
            // the counting works: the skipUnchanged view checks its sources, once per refresh
            assertInstanceOf(RefreshOutcome.Refreshed.class, service.refresh(UUID.fromString(trackedId)).await().atMost(WAIT));
            assertInstanceOf(RefreshOutcome.Unchanged.class, service.refresh(UUID.fromString(trackedId)).await().atMost(WAIT));
        } finally {
            // a backend that exits reports its counts
            pool.close().await().atMost(WAIT);
        }
        await().atMost(WAIT).until(() -> calls().get("_matviews_refresh_needed") - before.get("_matviews_refresh_needed") >= 2);
        Map<String, Long> after = calls();
        for (String function : TRACKING_FUNCTIONS) {
            assertEquals(2, after.get(function) - before.get(function),
                    function + ": called for the 2 refreshes of the skipUnchanged view only, not for the 10 without");
        }
    }
}
