package dev.matviews.refresh;

import dev.matviews.config.InstanceId;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.metrics.MatviewsMetrics;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which refreshes may start on this instance, and its shutdown drain: a refresh takes one of
 * {@code matviews.refresh.max-concurrent} slots or is not started (the instance is full, or
 * shutting down); at shutdown the running ones may finish within the grace, then the rest are
 * cancelled, each recorded as cancelled with the reason.
 */
@ApplicationScoped
public class RefreshAdmission {

    private static final Logger LOG = Logger.getLogger(RefreshAdmission.class);

    /** A refresh holding a slot: what the drain cancels. */
    interface Running {
        void cancel(String reason);
    }

    private final MatviewsConfig.Refresh config;
    private final String instanceId;
    private final MatviewsMetrics metrics;
    private final Set<Running> active = ConcurrentHashMap.newKeySet();
    /** Waiting for the last slot to be given back; guarded by this. */
    private final List<UniEmitter<? super Void>> idleWaiters = new ArrayList<>();
    private volatile boolean draining;
    private volatile long drainDeadline;

    public RefreshAdmission(MatviewsConfig config, InstanceId instanceId, MatviewsMetrics metrics) {
        this.config = config.refresh();
        this.instanceId = instanceId.value();
        this.metrics = metrics;
    }

    /** Whether this instance is shutting down (it starts no refresh). */
    public boolean draining() {
        return draining;
    }

    /** Takes a slot for {@code refresh}; or says why it may not start (nothing taken then). */
    Optional<RefreshOutcome.NotStarted> admit(Running refresh) {
        if (draining) {
            return Optional.of(new RefreshOutcome.NotStarted(RefreshOutcome.Reason.SHUTTING_DOWN,
                    new ShuttingDownException(instanceId)));
        }
        synchronized (this) {
            if (active.size() >= config.maxConcurrent()) {
                return Optional.of(new RefreshOutcome.NotStarted(RefreshOutcome.Reason.CAPACITY,
                        new RefreshCapacityException(config.maxConcurrent())));
            }
            active.add(refresh);
        }
        metrics.refreshStarted();
        return Optional.empty();
    }

    /** Gives the slot of {@code refresh} back. */
    void release(Running refresh) {
        List<UniEmitter<? super Void>> woken = List.of();
        synchronized (this) {
            if (!active.remove(refresh)) {
                return;
            }
            if (active.isEmpty() && !idleWaiters.isEmpty()) {
                woken = List.copyOf(idleWaiters);
                idleWaiters.clear();
            }
        }
        metrics.refreshEnded();
        woken.forEach(w -> w.complete(null));
    }

    /** Completes once no refresh holds a slot. */
    Uni<Void> idle() {
        return Uni.createFrom().emitter(emitter -> {
            synchronized (this) {
                if (!active.isEmpty()) {
                    idleWaiters.add(emitter);
                    emitter.onTermination(() -> {
                        synchronized (this) {
                            idleWaiters.remove(emitter);
                        }
                    });
                    return;
                }
            }
            emitter.complete(null);
        });
    }

    /**
     * Shutdown begins (SIGTERM; the delay during which readiness is already DOWN starts): refuse
     * new refreshes, let running ones (of any trigger) finish within the grace, then cancel the
     * rest. The HTTP layer meanwhile waits for in-flight requests (quarkus.shutdown.timeout), so
     * synchronous callers get their answer before the server closes.
     */
    void onShutdownBegins(@Observes ShutdownDelayInitiatedEvent event) {
        beginDrain(config.shutdownGrace());
    }

    /** Before the pool closes: whatever still runs (asynchronous and job refreshes) ends first. */
    void onShutdown(@Observes @Priority(10) ShutdownEvent event) {
        drain(config.shutdownGrace());
    }

    /** Starts draining (idempotent); cancels what still runs once {@code grace} has passed. */
    public synchronized void beginDrain(Duration grace) {
        if (draining) {
            return;
        }
        draining = true;
        drainDeadline = System.nanoTime() + grace.toNanos();
        if (active.isEmpty()) {
            return;
        }
        LOG.infof("shutdown: refusing new refreshes; %d running may finish within %d ms", active.size(), grace.toMillis());
        idle().ifNoItem().after(grace).recoverWithUni(() -> {
                    String reason = "instance " + instanceId + " shut down and its grace of " + grace.toMillis()
                            + " ms ended";
                    LOG.infof("shutdown: cancelling %d refresh(es) still running after the grace", active.size());
                    active.forEach(r -> r.cancel(reason));
                    return Uni.createFrom().voidItem();
                })
                .subscribe().with(done -> { }, e -> LOG.warnf("shutdown drain: %s", e.getMessage()));
    }

    /** Drains and waits until no refresh runs (the grace, then up to 10 s for the cancelled ones). */
    public void drain(Duration grace) {
        beginDrain(grace);
        Duration left = Duration.ofNanos(Math.max(0, drainDeadline - System.nanoTime())).plusSeconds(10);
        // Blocking is right here: the shutdown observer must not return before the refreshes end.
        Boolean ended = idle().map(ok -> true).ifNoItem().after(left).recoverWithItem(false).await().indefinitely();
        if (!ended) {
            LOG.warnf("shutdown: %d refresh(es) did not end after being cancelled", active.size());
        }
    }
}
