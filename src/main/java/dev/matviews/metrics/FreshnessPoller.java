package dev.matviews.metrics;

import dev.matviews.db.OwnSchema;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/** Reads per-view freshness and the job queue depth for the gauges, by database time. */
@ApplicationScoped
public class FreshnessPoller {

    private static final Logger LOG = Logger.getLogger(FreshnessPoller.class);
    /** Staleness by the registrations view's one definition; the age by the database clock. */
    private static final String FRESHNESS = """
            SELECT schema_name || '.' || view_name AS view,
                   extract(epoch FROM last_success_at)::float8 AS last_success,
                   extract(epoch FROM clock_timestamp() - last_success_at)::float8 AS staleness,
                   stale,
                   (SELECT count(*) FROM %s WHERE state = 'queued') AS queued
              FROM %s""";

    private final Pool pool;
    private final MatviewsMetrics metrics;
    private final String freshness;

    public FreshnessPoller(Pool pool, MatviewsMetrics metrics, OwnSchema schema) {
        this.pool = pool;
        this.metrics = metrics;
        this.freshness = FRESHNESS.formatted(schema.jobs(), schema.registrations());
    }

    @Scheduled(identity = "freshness-metrics", every = "${matviews.metrics.poll-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> poll() {
        return pool.query(freshness).execute().invoke(rows -> {
                    List<MatviewsMetrics.Freshness> views = new ArrayList<>();
                    long[] queued = {0};
                    rows.forEach(row -> {
                        views.add(new MatviewsMetrics.Freshness(row.getString("view"), row.getDouble("last_success"),
                                row.getDouble("staleness"), row.getBoolean("stale")));
                        queued[0] = row.getLong("queued");
                    });
                    metrics.freshness(views, queued[0]);
                }).replaceWithVoid()
                .onFailure().invoke(e -> LOG.debugf("freshness metrics not read: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }
}
