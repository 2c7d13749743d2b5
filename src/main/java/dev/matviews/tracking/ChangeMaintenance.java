package dev.matviews.tracking;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.metrics.MatviewsMetrics;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * Keeps the change log small: every replica deletes, in batches, the rows no decision needs
 * (safe to run anywhere at once: see _matviews_compact_changes).
 */
@ApplicationScoped
public class ChangeMaintenance {

    private static final Logger LOG = Logger.getLogger(ChangeMaintenance.class);

    private final ChangeTrackingService tracking;
    private final MatviewsMetrics metrics;
    private final int batch;

    public ChangeMaintenance(ChangeTrackingService tracking, MatviewsConfig config, MatviewsMetrics metrics) {
        this.tracking = tracking;
        this.metrics = metrics;
        // Larger than the runs' batches: a change row is tiny, and each batch reads the log anew.
        this.batch = Math.max(50_000, config.runs().retention().batchSize());
    }

    @Scheduled(identity = "change-log-compaction", every = "${matviews.change-tracking.compact-interval}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> compactPeriodically() {
        return tracking.compact(batch)
                .invoke(n -> {
                    if (n > 0) {
                        LOG.debugf("change log compaction deleted %d row(s)", n);
                    }
                })
                .flatMap(n -> tracking.logState())
                .invoke(state -> metrics.changeLog(state.bytes(), state.oldestChangeAt() == null ? 0.0
                                : Math.max(0, java.time.Duration.between(state.oldestChangeAt().toInstant(),
                                        java.time.Instant.now()).toMillis() / 1000.0), !state.capturing()))
                .replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("change log compaction failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }
}
