package dev.matviews.health;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.ListenConnection;
import dev.matviews.db.StartupWarmup;
import dev.matviews.refresh.RefreshAdmission;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import java.time.Duration;

/**
 * Ready while this instance can do its work: the reactive pool that every refresh and request
 * uses answers SELECT 1 (a fresh connection is opened if the pooled ones died with a database
 * restart, so this is UP as soon as the database is back), and it is not shutting down. The
 * built-in datasource checks are off: the JDBC datasource serves only Flyway at start-up, and its
 * validation stayed DOWN for up to a minute after a database restart. The LISTEN connection is
 * reported, not required: without it events and scheduler wake-ups are late, refreshes still work.
 * A fresh instance is not ready until its warm-up ended ({@link StartupWarmup}), so a load
 * balancer sends it nothing it would answer slowly.
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements AsyncHealthCheck {

    static final String NAME = "matviews database";

    private final Pool pool;
    private final RefreshAdmission refreshes;
    private final ListenConnection listen;
    private final Duration timeout;
    private final StartupWarmup warmup;

    public ReadinessCheck(Pool pool, RefreshAdmission refreshes, ListenConnection listen, MatviewsConfig config,
                          StartupWarmup warmup) {
        this.pool = pool;
        this.warmup = warmup;
        this.refreshes = refreshes;
        this.listen = listen;
        this.timeout = config.database().readinessTimeout();
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        if (refreshes.draining()) {
            return Uni.createFrom().item(HealthCheckResponse.named(NAME).down().withData("reason", "shutting down").build());
        }
        if (!warmup.warm()) {
            return Uni.createFrom().item(HealthCheckResponse.named(NAME).down().withData("reason", "warming up").build());
        }
        String listening = listen.connected() ? "connected" : "reconnecting: " + listen.lastError();
        return pool.query("SELECT 1").execute()
                .ifNoItem().after(timeout).fail()
                .map(rows -> HealthCheckResponse.named(NAME).up().withData("listen", listening).build())
                .onFailure().recoverWithItem(e -> HealthCheckResponse.named(NAME).down()
                        .withData("error", e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                        .withData("listen", listening).build());
    }
}
