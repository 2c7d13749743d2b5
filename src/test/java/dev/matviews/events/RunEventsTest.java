package dev.matviews.events;

import dev.matviews.config.InstanceId;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.OwnSchema;
import dev.matviews.refresh.RefreshRepository;
import dev.matviews.refresh.RefreshOutcome;
import dev.matviews.refresh.RefreshService;
import dev.matviews.support.Api;
import dev.matviews.support.SseClient;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.PgBuilder;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Run events over SSE: live, resumed with Last-Event-ID, and from another instance of the service. */
@QuarkusTest
class RunEventsTest {

    private static final Duration WAIT = Duration.ofSeconds(15);

    @TestHTTPResource("/api/admin/matviews/events")
    URI events;
    @Inject
    dev.matviews.db.BackendCancel canceller;
    @Inject
    Vertx vertx;
    @Inject
    MatviewsConfig config;
    @Inject
    dev.matviews.metrics.MatviewsMetrics metrics;

    private static String registeredView() {
        String mv = TestDb.uniqueName("mv");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        return Api.register("public", mv, "standard");
    }

    private static SseClient connect(URI uri, String lastEventId) {
        SseClient client = new SseClient(uri, lastEventId);
        await().atMost(WAIT).until(client::connected);
        return client;
    }

    @Test
    void aRefreshProducesAStartedThenAFinishedEvent() throws Exception {
        String id = registeredView();
        try (SseClient sse = connect(events, null)) {
            String runId = Api.refresh(id).statusCode(200).extract().path("runId");
            SseClient.Event started = sse.next(runId, WAIT);
            assertEquals("run-started", started.name());
            assertTrue(started.data().contains("\"status\":\"running\""), started.data());
            SseClient.Event finished = sse.next(runId, WAIT);
            assertEquals("run-finished", finished.name());
            assertTrue(finished.data().contains("\"status\":\"success\""), finished.data());
            assertTrue(Long.parseLong(finished.id()) > Long.parseLong(started.id()));
        }
    }

    @Test
    void reconnectingWithLastEventIdDeliversWhatWasMissed() throws Exception {
        String id = registeredView();
        String lastId;
        try (SseClient sse = connect(events, null)) {
            String runId = Api.refresh(id).statusCode(200).extract().path("runId");
            sse.next(runId, WAIT);
            lastId = sse.next(runId, WAIT).id();
        }
        String missed = Api.refresh(id).statusCode(200).extract().path("runId");
        try (SseClient resumed = connect(events, lastId)) {
            SseClient.Event event = resumed.next(missed, WAIT);
            assertEquals("run-finished", event.name());
            String live = Api.refresh(id).statusCode(200).extract().path("runId");
            assertEquals("run-started", resumed.next(live, WAIT).name());
        }
    }

    @Test
    void aRefreshByAnotherInstanceShowsOnThisInstancesStream() throws Exception {
        String id = registeredView();
        var cfg = ConfigProvider.getConfig();
        PgConnectOptions options = PgConnectOptions.fromUri(cfg.getValue("quarkus.datasource.reactive.url", String.class))
                .setUser(cfg.getValue("quarkus.datasource.username", String.class))
                .setPassword(cfg.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
        // Named: the pool metrics of the service's own pool already use the default name (a second
        // registration under it is ignored, with a warning).
        Pool otherPool = PgBuilder.pool().connectingTo(options)
                .with(new PoolOptions().setMaxSize(2).setName("other-instance")).using(vertx).build();
        try (SseClient sse = connect(events, null)) {
            OwnSchema schema = new OwnSchema(config);
            RefreshService otherInstance = new RefreshService(otherPool, new RefreshRepository(schema, config), config,
                    new InstanceId("instance-b"), metrics, canceller, new dev.matviews.refresh.RefreshAdmission(config, new InstanceId("instance-b"), metrics));
            RefreshOutcome result = otherInstance.refresh(UUID.fromString(id)).await().atMost(WAIT);
            SseClient.Event event = sse.next(result.runId().toString(), WAIT);
            assertTrue(event.data().contains("\"instanceId\":\"instance-b\""), event.data());
        } finally {
            otherPool.closeAndAwait();
        }
    }

    @Test
    void aBadLastEventIdIs400() {
        io.restassured.RestAssured.given().header("Last-Event-ID", "yesterday").get(events).then().statusCode(400);
    }
}
