package dev.matviews.refresh;

import dev.matviews.config.InstanceId;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.DatabaseConnectOptions;
import dev.matviews.db.ListenConnection;
import dev.matviews.db.StartupWarmup;
import dev.matviews.db.Warmup;
import dev.matviews.health.ReadinessCheck;
import dev.matviews.metrics.MatviewsMetrics;
import dev.matviews.registry.RefreshStatus;
import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import dev.matviews.support.WireCounter;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.spi.PgDriver;
import io.vertx.sqlclient.PoolOptions;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fresh instance is warm before it is ready: every pooled connection open and the hot
 * statements prepared on it, without changing anything, so its first refreshes prepare nothing.
 */
@QuarkusTest
class StartupWarmupTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int POOL = 3;

    @Inject
    Vertx vertx;
    @Inject
    DatabaseConnectOptions connectOptions;
    @Inject
    Pool servicePool;
    @Inject
    Instance<Warmup> warmups;
    @Inject
    RefreshRepository repository;
    @Inject
    MatviewsConfig config;
    @Inject
    InstanceId instanceId;
    @Inject
    MatviewsMetrics metrics;
    @Inject
    dev.matviews.db.BackendCancel canceller;
    @Inject
    ListenConnection listen;
    @Inject
    StartupWarmup serviceWarmup;

    private static final String STATE = "SELECT (SELECT count(*) FROM _ayb_jobs) || '/' || (SELECT count(*)"
            + " FROM _ayb_matview_refresh_runs) || '/' || (SELECT count(*) FROM _ayb_job_schedules)"
            + " || '/' || (SELECT coalesce(max(updated_at)::text, '') FROM _ayb_jobs)";

    @Test
    void theServiceItselfWarmedUpBeforeBeingReady() {
        serviceWarmup.done().await().atMost(WAIT);
        assertTrue(serviceWarmup.warm());
    }

    @Test
    void aWarmedPoolRefreshesWithoutPreparingAStatementAndWarmingChangedNothing() throws Exception {
        String mv = TestDb.uniqueName("warm");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        servicePool.query("SELECT 1").execute().await().atMost(WAIT); // the pool exists, so do its options
        String appName = "warmup-" + UUID.randomUUID().toString().substring(0, 8);
        PgConnectOptions options = connectOptions.copy();
        try (WireCounter wire = new WireCounter(options.getHost(), options.getPort())) {
            options.setHost("127.0.0.1").setPort(wire.port()).addProperty("application_name", appName);
            Pool pool = Pool.newInstance(PgDriver.INSTANCE.createPool(vertx.getDelegate(), List.of(options),
                    new PoolOptions().setMaxSize(POOL)));
            try {
                String before = TestDb.string(STATE);
                StartupWarmup warmup = new StartupWarmup(pool, warmups, POOL);
                ReadinessCheck readiness = new ReadinessCheck(pool, new RefreshAdmission(config, instanceId, metrics),
                        listen, config, warmup);
                assertFalse(warmup.warm());
                assertEquals(HealthCheckResponse.Status.DOWN, readiness.call().await().atMost(WAIT).getStatus(),
                        "not ready while warming up");

                warmup.done().await().atMost(WAIT);
                assertTrue(warmup.warm());
                assertEquals(HealthCheckResponse.Status.UP, readiness.call().await().atMost(WAIT).getStatus());
                assertEquals(POOL, TestDb.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                        + appName + "'"), "every pooled connection is open");
                assertTrue(wire.parses() >= POOL, "statements were prepared on each connection: " + wire.parses());
                assertEquals(before, TestDb.string(STATE), "warming changed no job, run or schedule");
                assertEquals(0, TestDb.ourAdvisoryLocks());

                wire.reset();
                RefreshService service = new RefreshService(pool, repository, config, instanceId, metrics, canceller,
                        new RefreshAdmission(config, instanceId, metrics));
                for (int i = 0; i < POOL; i++) {
                    RefreshOutcome outcome = service.refresh(UUID.fromString(id)).await().atMost(WAIT);
                    assertEquals(RefreshStatus.SUCCESS, ((RefreshOutcome.Refreshed) outcome).registration()
                            .lastRefreshStatus());
                }
                assertEquals(0, wire.parses(), "the refresh path found its statements prepared");
            } finally {
                pool.close().await().atMost(WAIT);
            }
        }
    }
}
