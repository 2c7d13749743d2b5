package dev.matviews.refresh;

import dev.matviews.config.InstanceId;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.AdvisoryLocks;
import dev.matviews.db.DatabaseConnectOptions;
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
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Database round trips of a refresh, counted on the wire by a proxy between the service's code
 * and PostgreSQL (Query and Sync messages): the success path costs two, a loser one, and a loser
 * while this instance itself refreshes the view none. Statements are prepared on first use per
 * connection, so every count follows a warm-up on the same (only) connection.
 */
@QuarkusTest
class RoundTripTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    dev.matviews.db.BackendCancel canceller;
    @Inject
    Vertx vertx;
    @Inject
    DatabaseConnectOptions connectOptions;
    @Inject
    RefreshRepository repository;
    @Inject
    MatviewsConfig config;
    @Inject
    InstanceId instanceId;
    @Inject
    MatviewsMetrics metrics;
    @Inject
    Pool servicePool;

    private WireCounter wire;
    private Pool pool;
    private RefreshService service;

    @BeforeEach
    void proxiedService() throws Exception {
        servicePool.query("SELECT 1").execute().await().atMost(WAIT); // the pool exists, so do its options
        PgConnectOptions options = connectOptions.copy();
        wire = new WireCounter(options.getHost(), options.getPort());
        options.setHost("127.0.0.1").setPort(wire.port());
        pool = Pool.newInstance(PgDriver.INSTANCE.createPool(vertx.getDelegate(), List.of(options),
                new PoolOptions().setMaxSize(1)));
        service = new RefreshService(pool, repository, config, instanceId, metrics, canceller,
                new RefreshAdmission(config, instanceId, metrics));
    }

    @AfterEach
    void close() throws Exception {
        pool.close().await().atMost(WAIT);
        wire.close();
        assertEquals(0, TestDb.ourAdvisoryLocks(), "no refresh lock is left behind");
    }

    private String mv;

    private String view(String mode, String body) {
        mv = TestDb.uniqueName("rt");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS " + body + "; CREATE UNIQUE INDEX ON public." + mv
                + " (id)");
        return Api.register("public", mv, mode);
    }

    /** The refreshed view, or the outcome's answer thrown (as the API answers it). */
    private RefreshOutcome.Refreshed refresh(String id) {
        return refreshed(service.refresh(UUID.fromString(id)).await().atMost(WAIT));
    }

    private static RefreshOutcome.Refreshed refreshed(RefreshOutcome outcome) {
        if (outcome.answer() != null) {
            throw outcome.answer();
        }
        return (RefreshOutcome.Refreshed) outcome;
    }

    @Test
    void aSuccessfulRefreshCostsTwoRoundTrips() {
        for (String mode : List.of("standard", "concurrent")) {
            String id = view(mode, "SELECT g AS id FROM generate_series(1, 10) g");
            refresh(id);
            wire.reset();
            RefreshOutcome.Refreshed result = refresh(id);
            assertEquals(2, wire.roundTrips(), mode + ": preflight, then REFRESH + record + unlock");
            assertEquals(RefreshStatus.SUCCESS, result.registration().lastRefreshStatus());
            assertEquals(0, TestDb.ourAdvisoryLocks(), mode + ": the message released the lock");
        }
    }

    @Test
    void aLoserToAnotherSessionCostsOneRoundTrip() {
        String id = view("standard", "SELECT g AS id FROM generate_series(1, 10) g");
        refresh(id);
        try (TestDb other = TestDb.open()) {
            other.exec("SELECT " + AdvisoryLocks.tryLock("'public." + mv + "'::regclass::oid::int4"));
            wire.reset();
            assertThrows(RefreshInProgressException.class, () -> refresh(id));
            assertEquals(1, wire.roundTrips(), "the preflight tells the loser apart");
        }
    }

    @Test
    void aLoserToThisInstanceCostsNoRoundTrip() {
        String id = view("standard", "SELECT 1 AS id FROM pg_sleep(1)");
        refresh(id);
        CompletableFuture<RefreshOutcome> first = service.refresh(UUID.fromString(id)).subscribeAsCompletionStage();
        // Its REFRESH message is on the wire: nothing else of this refresh is sent until it answers.
        await().atMost(WAIT).until(() -> TestDb.count("SELECT count(*) FROM pg_stat_activity"
                + " WHERE state = 'active' AND pid <> pg_backend_pid()"
                + " AND query LIKE '%pg_advisory_unlock%' AND query LIKE '%REFRESH MATERIALIZED VIEW%'") == 1);
        wire.reset();
        assertThrows(RefreshInProgressException.class, () -> refresh(id));
        assertEquals(0, wire.roundTrips(), "this instance knows it holds the lock");
        assertInstanceOf(RefreshOutcome.Refreshed.class, first.join());
        wire.reset();
        refresh(id);
        assertEquals(2, wire.roundTrips(), "once it ended, the next refresh runs");
    }

    @Test
    void aBurstForOneViewCostsOnePreflightAndNoRefreshSlots() {
        String id = view("standard", "SELECT 1 AS id FROM pg_sleep(1)");
        refresh(id);
        wire.reset();
        int burst = 3 * config.refresh().maxConcurrent();
        List<CompletableFuture<RefreshOutcome.Refreshed>> all = new java.util.ArrayList<>();
        for (int i = 0; i < burst; i++) {
            all.add(service.refresh(UUID.fromString(id)).map(RoundTripTest::refreshed).subscribeAsCompletionStage());
        }
        int refreshed = 0;
        int lost = 0;
        for (CompletableFuture<RefreshOutcome.Refreshed> f : all) {
            try {
                f.get(30, java.util.concurrent.TimeUnit.SECONDS);
                refreshed++;
            } catch (java.util.concurrent.ExecutionException e) {
                assertInstanceOf(RefreshInProgressException.class, e.getCause(), "a loser, not out of capacity");
                lost++;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        assertEquals(1, refreshed);
        assertEquals(burst - 1, lost);
        assertEquals(2, wire.roundTrips(), "one preflight and one REFRESH message for the whole burst");
    }

    @Test
    void aConnectionCutBeforeThePreflightReachedTheServerCostsTheRefreshNothing() {
        String id = view("standard", "SELECT g AS id FROM generate_series(1, 10) g");
        refresh(id);
        long runsBefore = TestDb.count("SELECT count(*) FROM public._ayb_matview_refresh_runs WHERE view_name = '" + mv + "'");
        // The pooled connection breaks as the preflight is sent: nothing of it ran, so another connection runs it.
        wire.cutAtNextMessage();
        RefreshOutcome.Refreshed result = refresh(id);
        assertEquals(RefreshStatus.SUCCESS, result.registration().lastRefreshStatus());
        assertEquals(runsBefore + 1, TestDb.count("SELECT count(*) FROM public._ayb_matview_refresh_runs"
                + " WHERE view_name = '" + mv + "'"), "one run, no abandoned one");
        assertEquals("success", TestDb.string("SELECT status FROM public._ayb_matview_refresh_runs"
                + " WHERE view_name = '" + mv + "' ORDER BY started_at DESC LIMIT 1"));
    }

    @Test
    void aConnectionResetBeforeThePreflightReachedTheServerCostsTheRefreshNothing() {
        String id = view("standard", "SELECT g AS id FROM generate_series(1, 10) g");
        refresh(id);
        long runsBefore = TestDb.count("SELECT count(*) FROM public._ayb_matview_refresh_runs WHERE view_name = '" + mv + "'");
        // An RST instead of an orderly close: the client fails the preflight with the socket's own exception.
        wire.resetAtNextMessage();
        RefreshOutcome.Refreshed result = refresh(id);
        assertEquals(RefreshStatus.SUCCESS, result.registration().lastRefreshStatus());
        assertEquals(runsBefore + 1, TestDb.count("SELECT count(*) FROM public._ayb_matview_refresh_runs"
                + " WHERE view_name = '" + mv + "'"), "one run, no abandoned one");
    }
}
