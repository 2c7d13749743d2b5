package dev.matviews.metrics;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.OwnSchema;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/** Reads per-view freshness and the job queue depth for the gauges, by database time. */
@ApplicationScoped
public class FreshnessPoller {

    private static final Logger LOG = Logger.getLogger(FreshnessPoller.class);
    /**
     * Totals over every registration; per-view values for at most $1 of them: behind their target
     * first, then stale, then those with a target, then the longest without a success (never first). Staleness by the registrations view's one
     * definition, ages by the database clock.
     */
    private static final String FRESHNESS = """
            WITH totals AS (
                SELECT count(*) AS registered, count(*) FILTER (WHERE stale) AS stale,
                       count(*) FILTER (WHERE lag_seconds > target_lag_seconds) AS behind,
                       count(*) FILTER (WHERE suspended_at IS NOT NULL) AS suspended FROM %2$s
            )
            SELECT totals.registered, totals.stale, totals.behind, totals.suspended,
                   (SELECT count(*) FROM %1$s WHERE state = 'queued') AS queued, v.*
              FROM totals LEFT JOIN LATERAL (
                SELECT schema_name || '.' || view_name AS view,
                       extract(epoch FROM last_success_at)::float8 AS last_success,
                       extract(epoch FROM clock_timestamp() - last_success_at)::float8 AS staleness,
                       (last_refresh_duration_ms / 1000.0)::float8 AS last_duration,
                       lag_seconds AS lag, target_lag_seconds::float8 AS target_lag
                  FROM %2$s
                 ORDER BY coalesce(lag_seconds > target_lag_seconds, false) DESC, stale DESC,
                          target_lag_seconds IS NOT NULL DESC, last_success_at ASC NULLS FIRST, schema_name, view_name
                 LIMIT $1
              ) v ON true""";

    private final Pool pool;
    private final MatviewsMetrics metrics;
    private final String freshness;
    private final int maxViews;

    public FreshnessPoller(Pool pool, MatviewsMetrics metrics, OwnSchema schema, MatviewsConfig config) {
        this.pool = pool;
        this.metrics = metrics;
        this.freshness = FRESHNESS.formatted(schema.jobs(), schema.registrations());
        this.maxViews = config.metrics().maxViews();
    }

    @Scheduled(identity = "freshness-metrics", every = "${matviews.metrics.poll-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> poll() {
        return pool.preparedQuery(freshness).execute(Tuple.of(maxViews)).invoke(rows -> {
                    List<MatviewsMetrics.Freshness> views = new ArrayList<>();
                    long[] totals = new long[5];
                    rows.forEach(row -> {
                        totals[0] = row.getLong("registered");
                        totals[1] = row.getLong("stale");
                        totals[2] = row.getLong("queued");
                        totals[3] = row.getLong("behind");
                        totals[4] = row.getLong("suspended");
                        if (row.getString("view") != null) {
                            views.add(new MatviewsMetrics.Freshness(row.getString("view"), row.getDouble("last_success"),
                                    row.getDouble("staleness"), row.getDouble("last_duration"), row.getDouble("lag"),
                                    row.getDouble("target_lag")));
                        }
                    });
                    metrics.freshness(views, totals[0], totals[1], totals[2], totals[3], totals[4]);
                }).replaceWithVoid()
                .onFailure().invoke(e -> LOG.debugf("freshness metrics not read: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }
}
