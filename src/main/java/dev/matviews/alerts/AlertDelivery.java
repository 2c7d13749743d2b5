package dev.matviews.alerts;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.ListenConnection;
import dev.matviews.metrics.MatviewsMetrics;
import dev.matviews.runs.RunRepository;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.core.buffer.Buffer;
import io.vertx.mutiny.core.http.HttpClient;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Delivers the alert outbox to the configured webhook. Every replica runs one; an alert is claimed
 * by one of them at a time (FOR UPDATE SKIP LOCKED, then a lease), POSTed signed, and marked
 * delivered on a 2xx answer; anything else is retried with capped backoff. Wakes on the NOTIFY
 * that comes with every new alert, and on a timer for retries. Also keeps the outbox bounded
 * (retention and a row cap), whether or not a webhook is configured.
 */
@ApplicationScoped
public class AlertDelivery {

    private static final Logger LOG = Logger.getLogger(AlertDelivery.class);
    public static final String SIGNATURE_HEADER = "X-Matviews-Signature";
    public static final String EVENT_HEADER = "X-Matviews-Event";
    public static final String DELIVERY_HEADER = "X-Matviews-Delivery";
    private static final int BATCH = 20;
    private static final long IDLE_MS = 5_000;
    private static final long HOUSEKEEPING_MS = 60_000;

    private final Vertx vertx;
    private final Pool pool;
    private final AlertRepository alerts;
    private final ListenConnection listen;
    private final MatviewsMetrics metrics;
    private final MatviewsConfig.Alerts config;
    private final String[] events;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();
    private volatile boolean stopped;
    private volatile long timerId = -1;
    private long housekeepingTimer = -1;
    private HttpClient http;
    private ListenConnection.Subscription listening;

    @jakarta.inject.Inject
    public AlertDelivery(Vertx vertx, Pool pool, AlertRepository alerts, ListenConnection listen, MatviewsMetrics metrics,
                         MatviewsConfig config) {
        this(vertx, pool, alerts, listen, metrics, config.alerts());
    }

    /** Also for starting more deliverers by hand, as more replicas would (tests). */
    public AlertDelivery(Vertx vertx, Pool pool, AlertRepository alerts, ListenConnection listen, MatviewsMetrics metrics,
                         MatviewsConfig.Alerts config) {
        this.vertx = vertx;
        this.pool = pool;
        this.alerts = alerts;
        this.listen = listen;
        this.metrics = metrics;
        this.config = config;
        this.events = this.config.webhook().events().stream().filter(Alert.EVENTS::contains).toArray(String[]::new);
    }

    void onStart(@Observes StartupEvent event) {
        start();
    }

    void onStop(@Observes ShutdownEvent event) {
        stop();
    }

    /** Starts delivering (when a webhook is configured) and keeping the outbox bounded. */
    public void start() {
        housekeepingTimer = vertx.setPeriodic(HOUSEKEEPING_MS, id -> housekeeping());
        if (config.webhook().url().isEmpty()) {
            return;
        }
        http = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
                .setConnectTimeout((int) config.webhook().timeout().toMillis()));
        listening = listen.listen(RunRepository.CHANNEL, this::wake, payload -> {
            if (payload.startsWith("{\"alert\"")) {
                wake();
            }
        });
        wake();
    }

    public void stop() {
        stopped = true;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        if (housekeepingTimer >= 0) {
            vertx.cancelTimer(housekeepingTimer);
        }
        if (listening != null) {
            listening.close();
        }
        if (http != null) {
            // its pooled connections to the receiver go with it
            http.close().subscribe().with(ok -> { }, e -> LOG.debugf("closing the webhook client: %s", e.getMessage()));
        }
    }

    /** Delivers what is due now; a wake-up during a pass runs another pass after it. */
    public void wake() {
        if (stopped || http == null) {
            return;
        }
        if (running.getAndSet(true)) {
            again.set(true);
            return;
        }
        again.set(false);
        deliverDue().onFailure().invoke(e -> LOG.warnf("alert delivery pass failed: %s", e.getMessage()))
                .onFailure().recoverWithItem(IDLE_MS)
                .subscribe().with(this::sleep);
    }

    private void sleep(long nextInMs) {
        running.set(false);
        if (again.getAndSet(false)) {
            wake();
            return;
        }
        if (stopped) {
            return;
        }
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        timerId = vertx.setTimer(Math.max(10, Math.min(nextInMs, IDLE_MS)), id -> wake());
    }

    /** Claims and sends batches until none is due; how long until the next one is. */
    private Uni<Long> deliverDue() {
        long leaseMs = config.webhook().timeout().toMillis() * 2 + 5_000;
        return alerts.claim(pool, events, BATCH, leaseMs).flatMap(claimed -> {
            if (claimed.isEmpty()) {
                return alerts.pending(pool, events).map(p -> {
                    if (metrics != null) {
                        metrics.alertsPending(p.count());
                    }
                    return p.nextInMs() == null ? IDLE_MS : Math.max(0, p.nextInMs());
                });
            }
            return Uni.join().all(claimed.stream().map(this::send).toList()).andCollectFailures()
                    .flatMap(done -> deliverDue());
        });
    }

    private Uni<Void> send(AlertRepository.Claimed claimed) {
        Alert alert = claimed.alert();
        String body = alert.body();
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST)
                .setAbsoluteURI(config.webhook().url().orElseThrow())
                .setTimeout(config.webhook().timeout().toMillis())
                .putHeader("Content-Type", "application/json")
                .putHeader(EVENT_HEADER, alert.event())
                .putHeader(DELIVERY_HEADER, alert.id().toString());
        config.webhook().secret().ifPresent(secret -> options.putHeader(SIGNATURE_HEADER, "sha256=" + sign(secret, body)));
        return http.request(options)
                .flatMap(request -> request.send(Buffer.buffer(body)))
                .flatMap(response -> response.body().map(ignored -> response.statusCode()))
                .map(status -> status >= 200 && status < 300 ? null : "HTTP " + status)
                .onFailure().recoverWithItem(e -> String.valueOf(e.getMessage() == null ? e.getClass().getSimpleName()
                        : e.getMessage()))
                .flatMap(error -> {
                    if (error == null) {
                        if (metrics != null) {
                            metrics.alertDelivered(alert.event());
                        }
                        return alerts.delivered(pool, alert.id()).replaceWithVoid();
                    }
                    long delay = backoff(claimed.attempts());
                    LOG.infof("alert %s (%s of %s.%s) not delivered (attempt %d): %s; trying again in %d ms", alert.id(),
                            alert.event(), alert.schema(), alert.view(), claimed.attempts(), error, delay);
                    if (metrics != null) {
                        metrics.alertAttemptFailed();
                    }
                    return alerts.retryLater(pool, alert.id(), delay, error);
                });
    }

    /** Capped exponential backoff with up to 20 % jitter. */
    long backoff(int attempts) {
        long base = config.retryBase().toMillis();
        long capped = Math.min(config.retryCap().toMillis(), base << Math.min(30, Math.max(0, attempts - 1)));
        return capped + ThreadLocalRandom.current().nextLong(capped / 5 + 1);
    }

    /** HMAC-SHA256 of the body with the secret, in lower-case hex. */
    public static String sign(String secret, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** Retention and the row cap; alerts removed before they were delivered are counted and logged. */
    public Uni<Long> housekeeping() {
        return alerts.expire(pool, config.retention().toMillis())
                .flatMap(expired -> alerts.trim(pool, config.maxRows()).map(trimmed -> {
                    long dropped = expired.pending() + trimmed.pending();
                    if (dropped > 0) {
                        LOG.warnf("dropped %d undelivered alert(s): older than matviews.alerts.retention or beyond"
                                + " matviews.alerts.max-rows (is the webhook reachable?)", dropped);
                        if (metrics != null) {
                            metrics.alertsDropped(dropped);
                        }
                    }
                    return expired.all() + trimmed.all();
                }))
                .onFailure().invoke(e -> LOG.debugf("alert housekeeping failed: %s", e.getMessage()))
                .onFailure().recoverWithItem(0L);
    }
}
