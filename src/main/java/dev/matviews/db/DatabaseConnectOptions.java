package dev.matviews.db;

import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.spi.PgDriver;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/**
 * Creates the reactive pool exactly as Quarkus would (same options, same driver) and keeps the
 * connect options Quarkus built from the datasource's configuration (URL, credentials, TLS and
 * trust settings, additional properties), so connections outside the pool (LISTEN) use the very
 * same ones. A credentials provider (Vault) is not supported by this path.
 */
@ApplicationScoped
public class DatabaseConnectOptions implements PgPoolCreator {

    private volatile List<PgConnectOptions> options;

    /**
     * Vert.x caches only statements shorter than 2,048 characters; the refresh preflight is longer
     * and would be parsed again (one more round trip, a fresh plan) on every refresh.
     */
    static final int PREPARED_STATEMENT_CACHE_SQL_LIMIT = 16_384;

    @Override
    public Pool create(Input input) {
        input.pgConnectOptionsList().forEach(o -> o.setPreparedStatementCacheSqlLimit(PREPARED_STATEMENT_CACHE_SQL_LIMIT));
        options = List.copyOf(input.pgConnectOptionsList());
        return PgDriver.INSTANCE.createPool(input.vertx(), options, input.poolOptions());
    }

    /** A copy of the pool's connect options (the first host); the pool must have been created. */
    public PgConnectOptions copy() {
        List<PgConnectOptions> current = options;
        if (current == null) {
            throw new IllegalStateException("the reactive pool has not been created yet");
        }
        return new PgConnectOptions(current.get(0));
    }
}
