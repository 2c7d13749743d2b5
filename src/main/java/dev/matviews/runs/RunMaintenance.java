package dev.matviews.runs;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.BatchDelete;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Duration;

/**
 * Keeps history truthful and bounded: runs orphaned by a dead instance become abandoned, and
 * old runs are deleted in small batches. Every replica does both; the statements are idempotent,
 * so running them concurrently only wastes a little work.
 */
@ApplicationScoped
public class RunMaintenance {

    private static final Logger LOG = Logger.getLogger(RunMaintenance.class);

    private final Pool pool;
    private final RunRepository runs;
    private final MatviewsConfig.Runs config;

    public RunMaintenance(Pool pool, RunRepository runs, MatviewsConfig config) {
        this.pool = pool;
        this.runs = runs;
        this.config = config.runs();
    }

    @Scheduled(identity = "abandon-orphaned-runs", every = "${matviews.runs.abandon-check-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> abandonOrphansPeriodically() {
        return abandonOrphans().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("looking for abandoned runs failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }

    /** Marks runs of dead sessions as abandoned; returns how many. */
    public Uni<Long> abandonOrphans() {
        return runs.abandonOrphans(pool).invoke(count -> {
            if (count > 0) {
                LOG.infof("marked %d run(s) abandoned: their session ended without recording an outcome", count);
            }
        });
    }

    @Scheduled(identity = "run-retention", every = "${matviews.runs.retention.interval}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> applyRetentionPeriodically() {
        return applyRetention().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("run retention failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }

    /** Deletes runs beyond the configured age and count per view; returns how many. */
    public Uni<Long> applyRetention() {
        int batch = config.retention().batchSize();
        Duration maxAge = config.retention().maxAge();
        return BatchDelete.untilDone(() -> runs.deleteOlderThan(pool, maxAge, batch), batch)
                .flatMap(byAge -> BatchDelete.untilDone(() -> runs.deleteBeyondCount(pool,
                        config.retention().maxPerView(), batch), batch).map(byCount -> byAge + byCount))
                .invoke(total -> {
                    if (total > 0) {
                        LOG.infof("run retention deleted %d run(s)", total);
                    }
                });
    }
}
