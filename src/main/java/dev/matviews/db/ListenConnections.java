package dev.matviews.db;

import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.pubsub.PgSubscriber;
import io.vertx.pgclient.PgConnectOptions;
import org.eclipse.microprofile.config.Config;

/**
 * LISTEN needs a connection of its own for as long as the instance runs, outside the pool, and
 * re-established after a loss: a PgSubscriber to the same database as the pool.
 */
public final class ListenConnections {

    private ListenConnections() {
    }

    public static PgSubscriber subscriber(Vertx vertx, Config config) {
        String url = config.getValue("quarkus.datasource.reactive.url", String.class).replaceFirst("^vertx-reactive:", "");
        PgConnectOptions options = PgConnectOptions.fromUri(url);
        // Their Vert.x client meters are named like the pool's (postgresql.*), tagged
        // clientName=listen; unnamed they were ".processing", ".queue.size" and so on.
        options.setMetricsName("postgresql|listen");
        config.getOptionalValue("quarkus.datasource.username", String.class).ifPresent(options::setUser);
        config.getOptionalValue("quarkus.datasource.password", String.class).ifPresent(options::setPassword);
        return PgSubscriber.subscriber(vertx, options).reconnectPolicy(attempt -> 1000L);
    }
}
