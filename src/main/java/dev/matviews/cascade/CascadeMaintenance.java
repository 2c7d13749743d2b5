package dev.matviews.cascade;

import dev.matviews.config.MatviewsConfig;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * Keeps the cascade table truthful and bounded, as RunMaintenance does the runs: cascades whose
 * coordinator died become abandoned, and those older than the runs' retention age are deleted.
 * Every replica does both; the statements are idempotent.
 */
@ApplicationScoped
public class CascadeMaintenance {

    private static final Logger LOG = Logger.getLogger(CascadeMaintenance.class);

    private final CascadeService cascades;
    private final MatviewsConfig.Runs.Retention retention;

    public CascadeMaintenance(CascadeService cascades, MatviewsConfig config) {
        this.cascades = cascades;
        this.retention = config.runs().retention();
    }

    @Scheduled(identity = "abandon-orphaned-cascades", every = "${matviews.runs.abandon-check-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> abandonExpiredPeriodically() {
        return cascades.abandonExpired().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("looking for abandoned cascades failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }

    @Scheduled(identity = "cascade-retention", every = "${matviews.runs.retention.interval}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> applyRetentionPeriodically() {
        return cascades.deleteOlderThan(retention.maxAge(), retention.batchSize())
                .invoke(deleted -> {
                    if (deleted > 0) {
                        LOG.infof("cascade retention deleted %d cascade(s)", deleted);
                    }
                })
                .replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("cascade retention failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }
}
