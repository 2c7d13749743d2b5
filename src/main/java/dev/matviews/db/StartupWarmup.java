package dev.matviews.db;

import dev.matviews.config.MatviewsConfig;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Warms a fresh instance before it reports ready: every connection of the pool opened (connect,
 * authentication, session settings) and each feature's hot statements prepared on it, and the
 * hot in-memory code run once. Without it the first burst of scheduled refreshes after a start
 * paid for all of that and finished 1.5-2x later than the next minutes' (bench/burst.sh).
 * It opens as many connections as the scheduler's workers use at once plus two (the scheduler's
 * own statements, a request), not the whole pool: replicas starting together should not take
 * the database's connections all at once. A warm-up that fails or takes longer than
 * {@link #LIMIT} is logged and the instance goes on (the warm-up finishes in the background and
 * gives its connections back): it is an optimisation, never a reason not to serve.
 */
@ApplicationScoped
public class StartupWarmup {

    private static final Logger LOG = Logger.getLogger(StartupWarmup.class);
    private static final Duration LIMIT = Duration.ofSeconds(20);

    private final Pool pool;
    private final List<Warmup> warmups = new ArrayList<>();
    private final int connections;
    private final Uni<Void> done;
    private volatile boolean warm;

    @Inject
    public StartupWarmup(Pool pool, Instance<Warmup> warmups, MatviewsConfig config,
                         @ConfigProperty(name = "quarkus.datasource.reactive.max-size", defaultValue = "20") int poolSize) {
        this(pool, (Iterable<Warmup>) warmups, Math.min(poolSize, config.scheduler().workers() + 2));
    }

    /** Also for warming another pool by hand (tests): {@code connections} distinct connections. */
    public StartupWarmup(Pool pool, Iterable<Warmup> warmups, int connections) {
        this.pool = pool;
        warmups.forEach(this.warmups::add);
        this.connections = connections;
        Uni<Void> work = Uni.createFrom().deferred(this::run).memoize().indefinitely();
        // Waiting for it is bounded; the work itself is never cut (a cut getConnection would leak
        // the connection it delivers later): a subscriber of its own that never cancels keeps it
        // going to its end, the pool's timeouts included.
        this.done = Uni.createFrom().deferred(() -> {
            work.subscribe().with(v -> { }, e -> { });
            return work;
        }).ifNoItem().after(LIMIT).recoverWithUni(() -> {
            LOG.warnf("warm-up not over after %d s; serving anyway, it goes on in the background", LIMIT.toSeconds());
            return Uni.createFrom().voidItem();
        }).invoke(() -> warm = true).memoize().indefinitely();
    }

    /**
     * Start-up waits for it (at most {@link #LIMIT}): the instance announces itself started, and
     * answers ready, warm. The work runs on the event loop and a worker thread, never on this one.
     */
    void onStart(@Observes StartupEvent event) {
        done.await().atMost(LIMIT.plusSeconds(5));
    }

    /** Completes (never fails) once the warm-up is over, or {@link #LIMIT} has passed. */
    public Uni<Void> done() {
        return done;
    }

    /** Whether the warm-up is over. */
    public boolean warm() {
        return warm;
    }

    private Uni<Void> run() {
        long start = System.nanoTime();
        Uni<Void> code = Uni.createFrom().item(() -> {
            warmups.forEach(Warmup::warmCode);
            return (Void) null;
        }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
        // Held until every one is warm, so they are distinct connections, not one reused.
        List<Uni<SqlConnection>> opened = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            opened.add(pool.getConnection()
                    .flatMap(conn -> warmAll(conn).replaceWith(conn).onFailure().call(e -> conn.close()))
                    .onFailure().invoke(e -> LOG.debugf("a connection was not warmed: %s", e.getMessage()))
                    .onFailure().recoverWithNull());
        }
        Uni<Integer> pooled = Uni.join().all(opened).andFailFast()
                .call(conns -> Uni.join().all(conns.stream().filter(Objects::nonNull)
                        .map(c -> c.close().onFailure().recoverWithNull()).toList()).andFailFast())
                .map(conns -> (int) conns.stream().filter(Objects::nonNull).count());
        return Uni.combine().all().unis(code, pooled).asTuple()
                .invoke(t -> LOG.infof("warmed up in %d ms: %d of %d pooled connections open with their statements"
                        + " prepared", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), t.getItem2(), connections))
                .onFailure().invoke(e -> LOG.warnf("warm-up incomplete after %d ms (%s); serving anyway",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), e.getMessage()))
                .onFailure().recoverWithNull()
                .replaceWithVoid();
    }

    private Uni<Void> warmAll(SqlConnection conn) {
        Uni<Void> chain = Uni.createFrom().voidItem();
        for (Warmup w : warmups) {
            chain = chain.call(() -> w.warm(conn));
        }
        return chain;
    }
}
