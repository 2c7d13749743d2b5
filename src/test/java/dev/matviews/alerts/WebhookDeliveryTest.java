package dev.matviews.alerts;

import com.sun.net.httpserver.HttpServer;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.ListenConnection;
import dev.matviews.metrics.MatviewsMetrics;
import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The alert outbox delivered to a real HTTP receiver (the JDK's server, started here) by three
 * deliverers, as three replicas would run them: each alert reaches the receiver accepted exactly
 * once, signed, even when the receiver refuses its first two tries of every alert; alerts written
 * while no deliverer ran are delivered once one starts; a dead receiver fills a bounded outbox.
 */
@QuarkusTest
class WebhookDeliveryTest {

    static final String SECRET = "webhook-test-secret";

    @Inject
    Vertx vertx;
    @Inject
    Pool pool;
    @Inject
    AlertRepository repository;
    @Inject
    ListenConnection listen;
    @Inject
    MatviewsMetrics metrics;

    /** One request the receiver got. */
    record Received(String delivery, String event, String signature, String body, int answered) {
    }

    /** A receiver that answers each request with what {@code status} says, keeping every request. */
    static HttpServer receiver(List<Received> received, java.util.function.Function<String, Integer> status) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String delivery = exchange.getRequestHeaders().getFirst(AlertDelivery.DELIVERY_HEADER);
            int answer = status.apply(delivery);
            received.add(new Received(delivery, exchange.getRequestHeaders().getFirst(AlertDelivery.EVENT_HEADER),
                    exchange.getRequestHeaders().getFirst(AlertDelivery.SIGNATURE_HEADER), body, answer));
            exchange.sendResponseHeaders(answer, -1);
            exchange.close();
        });
        server.start();
        return server;
    }

    static MatviewsConfig.Alerts config(String url, int maxRows) {
        return new MatviewsConfig.Alerts() {
            public Webhook webhook() {
                return new Webhook() {
                    public Optional<String> url() { return Optional.of(url); }
                    public Optional<String> secret() { return Optional.of(SECRET); }
                    public List<String> events() { return Alert.EVENTS; }
                    public Duration timeout() { return Duration.ofSeconds(2); }
                };
            }
            public Duration retention() { return Duration.ofDays(7); }
            public int maxRows() { return maxRows; }
            public Duration retryBase() { return Duration.ofMillis(100); }
            public Duration retryCap() { return Duration.ofMillis(400); }
        };
    }

    private static List<String> raise(String registrationId, int count) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            TestDb.run("SELECT _matviews_alert('refresh-failed', '" + registrationId + "', '{\"n\": " + i + "}')");
        }
        ids.addAll(List.of(TestDb.string("SELECT string_agg(id::text, ',') FROM _matviews_alerts WHERE registration_id = '"
                + registrationId + "'").split(",")));
        return ids;
    }

    private String registration() {
        String view = TestDb.uniqueName("hook");
        TestDb.run("CREATE MATERIALIZED VIEW public." + view + " AS SELECT 1 AS x");
        return Api.register("public", view, "standard");
    }

    @Test
    void threeDeliverersDeliverEachAlertOnceThroughRefusals() throws Exception {
        String reg = registration();
        // written while no deliverer runs (as before a restart): kept, then delivered
        List<String> before = raise(reg, 6);
        Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
        List<Received> received = new CopyOnWriteArrayList<>();
        HttpServer server = receiver(received, delivery -> tries.computeIfAbsent(delivery, d -> new AtomicInteger())
                .incrementAndGet() <= 2 ? 500 : 204);
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        List<AlertDelivery> replicas = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                AlertDelivery replica = new AlertDelivery(vertx, pool, repository, listen, metrics, config(url, 10_000));
                replica.start();
                replicas.add(replica);
            }
            List<String> during = raise(reg, 6); // raised while they run: woken by the NOTIFY
            Set<String> mine = new HashSet<>(during);
            mine.addAll(before);
            assertEquals(12, mine.size());
            IntSupplier accepted = () -> (int) received.stream().filter(r -> r.answered() == 204 && mine.contains(r.delivery()))
                    .count();
            await().atMost(Duration.ofSeconds(30)).until(() -> accepted.getAsInt() >= 12);
            // and stays so: anything sent twice would arrive within this time
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> accepted.getAsInt() == 12);
            for (String id : mine) {
                List<Received> ofIt = received.stream().filter(r -> id.equals(r.delivery())).toList();
                assertEquals(1, ofIt.stream().filter(r -> r.answered() == 204).count(), "accepted once: " + ofIt);
                assertEquals(3, ofIt.size(), "two refusals, then the delivery: " + ofIt);
                for (Received r : ofIt) {
                    assertEquals("sha256=" + AlertDelivery.sign(SECRET, r.body()), r.signature(), "signed body");
                    JsonObject body = new JsonObject(r.body());
                    assertEquals(id, body.getString("id"));
                    assertEquals("refresh-failed", body.getString("event"));
                    assertEquals("refresh-failed", r.event());
                    assertEquals(reg, body.getString("registrationId"));
                    assertEquals("public", body.getString("schema"));
                    assertTrue(body.getString("view").startsWith("hook_"));
                    assertTrue(body.getString("at") != null && body.getJsonObject("detail").containsKey("n"));
                }
                assertEquals("delivered", TestDb.string("SELECT state FROM _matviews_alerts WHERE id = '" + id + "'"));
            }
        } finally {
            replicas.forEach(AlertDelivery::stop);
            server.stop(0);
        }
    }

    @Test
    void aDeadReceiverFillsABoundedOutboxNotMemory() throws Exception {
        String reg = registration();
        List<Received> received = new CopyOnWriteArrayList<>();
        HttpServer server = receiver(received, delivery -> 503);
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        AlertDelivery replica = new AlertDelivery(vertx, pool, repository, listen, metrics, config(url, 5));
        try {
            replica.start();
            List<String> raised = raise(reg, 8);
            await().atMost(Duration.ofSeconds(20)).until(() -> received.stream().map(Received::delivery)
                    .filter(raised::contains).distinct().count() == 8);
            long removed = replica.housekeeping().await().atMost(Duration.ofSeconds(10));
            assertTrue(removed >= 3, "the oldest alerts beyond max-rows went: " + removed);
            assertEquals(5, TestDb.count("SELECT count(*) FROM _matviews_alerts"), "at most max-rows alerts are kept");
            assertEquals(5, TestDb.count("SELECT count(*) FROM _matviews_alerts WHERE registration_id = '" + reg
                    + "' AND state = 'pending'"), "the newest are kept, still pending");
        } finally {
            replica.stop();
            server.stop(0);
        }
    }
}
