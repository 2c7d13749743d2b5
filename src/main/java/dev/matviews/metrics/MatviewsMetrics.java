package dev.matviews.metrics;

import io.micrometer.core.instrument.Counter;
import java.util.concurrent.atomic.AtomicReference;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The service's own meters (Prometheus at /q/metrics). Refresh outcomes are counted where they
 * happen; per-view freshness and queue depth are read from the database by {@link FreshnessPoller},
 * so every replica reports the same numbers whoever refreshed.
 */
@ApplicationScoped
public class MatviewsMetrics {

    private final MeterRegistry registry;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong queuedJobs = new AtomicLong();
    private final AtomicLong staleViews = new AtomicLong();
    private final AtomicLong registeredViews = new AtomicLong();
    private final AtomicLong changeLogBytes = new AtomicLong();
    private final AtomicReference<Double> changeLogOldestAge =
            new AtomicReference<>(0.0);
    private final AtomicLong captureStopped = new AtomicLong();
    private final MultiGauge lastSuccess;
    private final MultiGauge staleness;
    private final MultiGauge lastDuration;
    private final MultiGauge lag;
    private final MultiGauge targetLag;
    private final AtomicLong behindTarget = new AtomicLong();
    private final AtomicLong suspendedViews = new AtomicLong();
    private final AtomicLong alertsPending = new AtomicLong();

    public MatviewsMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("matviews.refreshes.in.flight", inFlight);
        registry.gauge("matviews.jobs.queued", queuedJobs);
        registry.gauge("matviews.views.stale", staleViews);
        registry.gauge("matviews.views.registered", registeredViews);
        Gauge.builder("matviews.change.log.size", changeLogBytes, AtomicLong::get).baseUnit("bytes")
                .description("Size of skipUnchanged's change log on disk").register(registry);
        Gauge.builder("matviews.change.log.oldest.age", changeLogOldestAge, AtomicReference::get).baseUnit("seconds")
                .description("Age of the oldest row in the change log (0 when empty)").register(registry);
        Gauge.builder("matviews.change.capture.stopped", captureStopped, AtomicLong::get)
                .description("1 while change capture is stopped (max-log-age or max-log-size passed), else 0")
                .register(registry);
        lastSuccess = MultiGauge.builder("matviews.view.last.success.timestamp").baseUnit("seconds")
                .description("When the view's last successful refresh ended (Unix time)").register(registry);
        staleness = MultiGauge.builder("matviews.view.staleness").baseUnit("seconds")
                .description("Seconds since the view's last successful refresh").register(registry);
        lastDuration = MultiGauge.builder("matviews.view.last.refresh.duration").baseUnit("seconds")
                .description("How long the view's latest finished refresh took").register(registry);
        lag = MultiGauge.builder("matviews.view.lag").baseUnit("seconds")
                .description("Seconds since the view's data timestamp (docs/freshness.md)").register(registry);
        targetLag = MultiGauge.builder("matviews.view.target.lag").baseUnit("seconds")
                .description("The view's freshness target (targetLag)").register(registry);
        Gauge.builder("matviews.views.behind.target", behindTarget, AtomicLong::get)
                .description("Registrations whose lag is above their target").register(registry);
        Gauge.builder("matviews.views.suspended", suspendedViews, AtomicLong::get)
                .description("Registrations suspended after failing scheduled refreshes (or reading one that is)")
                .register(registry);
        Gauge.builder("matviews.alerts.pending", alertsPending, AtomicLong::get)
                .description("Alerts in the outbox not delivered to the webhook yet").register(registry);
        // Known from the start at zero, so that alerting rules see the first increase of each series.
        TARGET_MISSED_REASONS.forEach(reason -> targetMissedCounter(reason));
        ALERT_EVENTS.forEach(event -> alertDeliveredCounter(event));
        alertFailures();
        alertsDroppedCounter();
    }

    public void refreshStarted() {
        inFlight.incrementAndGet();
    }

    public void refreshEnded() {
        inFlight.decrementAndGet();
    }

    /**
     * One finished refresh attempt; outcome is its run status (success, error, cancelled, timeout).
     * No view tag: a histogram per view would multiply its ~70 buckets by every registration.
     */
    public void refreshed(String mode, String trigger, String outcome, Duration duration) {
        Tags tags = Tags.of("mode", mode, "trigger", trigger, "outcome", outcome);
        Timer.builder("matviews.refresh.duration").description("Duration of REFRESH MATERIALIZED VIEW")
                .tags(tags).publishPercentileHistogram().register(registry).record(duration);
        Counter.builder("matviews.refreshes").description("Refresh attempts by outcome")
                .tags(Tags.of("trigger", trigger, "outcome", outcome)).register(registry).increment();
    }

    /** A refresh skipped because nothing changed (skipUnchanged): counted, with no REFRESH duration. */
    public void unchanged(String trigger) {
        Counter.builder("matviews.refreshes").description("Refresh attempts by outcome")
                .tags(Tags.of("trigger", trigger, "outcome", "skipped")).register(registry).increment();
    }

    /** A refresh that found the view's lock taken (answered 409, or a scheduled run skipped). */
    public void lockContention(String trigger) {
        Counter.builder("matviews.refresh.lock.contention").description("Refreshes that found the view being refreshed")
                .tags("trigger", trigger).register(registry).increment();
    }

    /** A stored schedule the scheduler could not evaluate, and disabled with the reason. */
    public void scheduleDisabled() {
        Counter.builder("matviews.schedules.disabled").description("Schedules disabled because they could not be evaluated")
                .register(registry).increment();
    }

    /**
     * A job's refresh run could not be remembered on the job; a cancel of the job reaches the
     * refresh through the worker's lease renewal instead.
     */
    public void jobRunNotAttached() {
        Counter.builder("matviews.jobs.run.attach.failures")
                .description("Job attempts whose refresh run could not be recorded on the job").register(registry).increment();
    }

    /** The change log as a compaction pass left it. */
    public void changeLog(long bytes, double oldestAgeSeconds, boolean stopped) {
        changeLogBytes.set(bytes);
        changeLogOldestAge.set(oldestAgeSeconds);
        captureStopped.set(stopped ? 1 : 0);
    }

    /** Why a freshness target can be missed (migration V16, _matviews_keep_targets): bounded tags. */
    public static final List<String> TARGET_MISSED_REASONS = List.of("workers busy", "upstream failed",
            "lock held elsewhere", "predicted duration above the target", "refresh failed",
            "refresh took longer than predicted", "scheduler late");
    /** The alert events (the alert outbox's, migration V16): tags of the delivery counter. */
    public static final List<String> ALERT_EVENTS = List.of("refresh-failed", "suspended", "target-missed", "recovered");

    private Counter targetMissedCounter(String reason) {
        return Counter.builder("matviews.target.missed").description("Freshness targets missed, by reason")
                .tags("reason", reason).register(registry);
    }

    /** A freshness target was missed, and why. */
    public void targetMissed(String reason) {
        targetMissedCounter(TARGET_MISSED_REASONS.contains(reason) ? reason : "scheduler late").increment();
    }

    private Counter alertDeliveredCounter(String event) {
        return Counter.builder("matviews.alerts.delivered").description("Alerts delivered to the webhook, by event")
                .tags("event", event).register(registry);
    }

    /** An alert reached the webhook. */
    public void alertDelivered(String event) {
        alertDeliveredCounter(event).increment();
    }

    private Counter alertFailures() {
        return Counter.builder("matviews.alerts.delivery.failures").description("Webhook delivery attempts that failed")
                .register(registry);
    }

    /** A delivery attempt failed; the alert is tried again later. */
    public void alertAttemptFailed() {
        alertFailures().increment();
    }

    private Counter alertsDroppedCounter() {
        return Counter.builder("matviews.alerts.dropped").description("Alerts removed from the outbox before delivery")
                .register(registry);
    }

    /** Undelivered alerts removed by retention or the row cap. */
    public void alertsDropped(long count) {
        alertsDroppedCounter().increment(count);
    }

    public void alertsPending(long count) {
        alertsPending.set(count);
    }

    /** How late a schedule fired its job. */
    public void fired(Duration lateness) {
        Timer.builder("matviews.schedule.firing.lateness").description("Time from a schedule's due time to its job")
                .publishPercentileHistogram().register(registry).record(lateness.isNegative() ? Duration.ZERO : lateness);
    }

    /** Per-view freshness as last read from the database. */
    public record Freshness(String view, Double lastSuccessEpochSeconds, Double stalenessSeconds,
                            Double lastDurationSeconds, Double lagSeconds, Double targetLagSeconds) {
    }

    /** Totals over every registration, and per-view series for those in {@code views} (a bounded selection). */
    void freshness(List<Freshness> views, long registered, long stale, long queued, long behind, long suspended) {
        queuedJobs.set(queued);
        behindTarget.set(behind);
        suspendedViews.set(suspended);
        registeredViews.set(registered);
        staleViews.set(stale);
        lastSuccess.register(rows(views.stream().filter(v -> v.lastSuccessEpochSeconds() != null).toList(),
                Freshness::lastSuccessEpochSeconds), true);
        staleness.register(rows(views.stream().filter(v -> v.stalenessSeconds() != null).toList(),
                Freshness::stalenessSeconds), true);
        lastDuration.register(rows(views.stream().filter(v -> v.lastDurationSeconds() != null).toList(),
                Freshness::lastDurationSeconds), true);
        lag.register(rows(views.stream().filter(v -> v.lagSeconds() != null).toList(), Freshness::lagSeconds), true);
        targetLag.register(rows(views.stream().filter(v -> v.targetLagSeconds() != null).toList(),
                Freshness::targetLagSeconds), true);
    }

    private static List<MultiGauge.Row<?>> rows(List<Freshness> views, ToDoubleFunction<Freshness> value) {
        return views.stream().<MultiGauge.Row<?>>map(v -> MultiGauge.Row.of(Tags.of("view", v.view()), value.applyAsDouble(v)))
                .toList();
    }
}
