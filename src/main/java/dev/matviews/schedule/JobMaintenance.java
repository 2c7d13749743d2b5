package dev.matviews.schedule;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.BatchDelete;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * Keeps the job table bounded: a per-second schedule adds 86,400 jobs a day. Finished jobs are
 * deleted by age and by count per schedule, in batches; queued and running ones are never
 * touched, nor jobs of types this service does not run (AllYourBase's, on the same table).
 * Every replica runs it; the deletes are idempotent.
 */
@ApplicationScoped
public class JobMaintenance {

    private static final Logger LOG = Logger.getLogger(JobMaintenance.class);

    private final Pool pool;
    private final JobRepository jobs;
    private final MatviewsConfig.Jobs.Retention config;
    private final String[] types;

    public JobMaintenance(Pool pool, JobRepository jobs, MatviewsConfig config, JobScheduler scheduler) {
        this.pool = pool;
        this.jobs = jobs;
        this.config = config.jobs().retention();
        this.types = scheduler.handledTypes();
    }

    @Scheduled(identity = "job-retention", every = "${matviews.jobs.retention.interval}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> applyRetentionPeriodically() {
        return applyRetention().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("job retention failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }

    /** Deletes finished jobs beyond the configured age and count per schedule; returns how many. */
    public Uni<Long> applyRetention() {
        int batch = config.batchSize();
        return BatchDelete.untilDone(() -> jobs.deleteFinishedOlderThan(pool, config.maxAge(), batch, types), batch)
                .flatMap(byAge -> BatchDelete.untilDone(() -> jobs.deleteFinishedBeyondCount(pool,
                        config.maxPerSchedule(), batch, types), batch).map(byCount -> byAge + byCount))
                .invoke(total -> {
                    if (total > 0) {
                        LOG.infof("job retention deleted %d finished job(s)", total);
                    }
                });
    }
}
