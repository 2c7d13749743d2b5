package dev.matviews.db;

import io.quarkus.reactive.pg.client.PgPoolCreator;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.spi.PgDriver;
import io.vertx.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Creates the reactive pool exactly as Quarkus would (same options, same driver) and keeps the
 * connect options Quarkus built from the datasource's configuration (URL, credentials, TLS and
 * trust settings, additional properties), so connections outside the pool (LISTEN) use the very
 * same ones. A credentials provider (Vault) is not supported by this path.
 *
 * <p>Start-up parameters: a pooler such as PgBouncer refuses a connection whose start-up packet
 * carries a parameter it does not track (its default accepts only the few below), and the Vert.x
 * client sends {@code extra_float_digits} and {@code IntervalStyle} of its own, and ours
 * {@code plan_cache_mode}. Only the parameters every pooler passes go into the start-up packet;
 * the others are set with {@code set_config} as each pooled connection is created, which holds for
 * the session on a direct or session-pooled connection (the only kinds matviews runs on, see
 * {@link SessionPoolingCheck}).
 */
@ApplicationScoped
public class DatabaseConnectOptions implements PgPoolCreator {

    private static final Logger LOG = Logger.getLogger(DatabaseConnectOptions.class);

    /** What PgBouncer accepts in a start-up packet with its default settings (lower case). */
    static final Set<String> POOLER_SAFE = Set.of("client_encoding", "datestyle", "timezone",
            "standard_conforming_strings", "application_name");

    private volatile List<PgConnectOptions> options;
    private volatile Map<String, String> sessionSettings = Map.of();
    /** Client-side process id to server pid, of the connections the pool opened lately (bounded). */
    private final Map<Integer, Integer> serverPids = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Integer> eldest) {
            return size() > 1024;
        }
    });

    /**
     * Vert.x caches only statements shorter than 2,048 characters; the refresh preflight is longer
     * and would be parsed again (one more round trip, a fresh plan) on every refresh.
     */
    static final int PREPARED_STATEMENT_CACHE_SQL_LIMIT = 16_384;

    @Override
    public Pool create(Input input) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (PgConnectOptions o : input.pgConnectOptionsList()) {
            o.setPreparedStatementCacheSqlLimit(PREPARED_STATEMENT_CACHE_SQL_LIMIT);
            settings.putAll(moveUnsafeProperties(o));
        }
        options = List.copyOf(input.pgConnectOptionsList());
        sessionSettings = Map.copyOf(settings);
        Pool pool = PgDriver.INSTANCE.createPool(input.vertx(), options, input.poolOptions());
        String init = initStatement(settings);
        // Vert.x hands each new connection here before the pool uses it; closing it releases it to the pool.
        pool.connectHandler(conn -> conn.query(init).execute().onComplete(done -> {
            if (done.failed()) {
                LOG.warnf("could not prepare a new database connection (session settings %s): %s", settings,
                        done.cause().getMessage());
            } else if (conn instanceof PgConnection pg) {
                serverPids.put(pg.processId(), done.result().iterator().next().getInteger(0));
            }
            conn.close();
        }));
        return pool;
    }

    /**
     * The server's backend pid of a pooled connection, by the process id its start-up gave the
     * client: the same on a direct connection, PgBouncer's own number behind it. Null if unknown.
     */
    public Integer serverPid(int processId) {
        return serverPids.get(processId);
    }

    /** Removes the start-up properties a pooler may refuse from {@code o}; returns them, to be SET instead. */
    static Map<String, String> moveUnsafeProperties(PgConnectOptions o) {
        Map<String, String> kept = new LinkedHashMap<>();
        Map<String, String> moved = new LinkedHashMap<>();
        o.getProperties().forEach((name, value) -> {
            if (POOLER_SAFE.contains(name.toLowerCase(Locale.ROOT))) {
                kept.put(name, value);
            } else {
                moved.put(name, value);
            }
        });
        o.setProperties(kept);
        return moved;
    }

    /** One statement reading the backend pid and setting every parameter for the session. */
    static String initStatement(Map<String, String> settings) {
        return settings.entrySet().stream()
                .map(e -> ", set_config(" + literal(e.getKey()) + ", " + literal(e.getValue()) + ", false)")
                .collect(Collectors.joining("", "SELECT pg_backend_pid()", ""));
    }

    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    /** The parameters set on each pooled connection after it connects (not in its start-up packet). */
    public Map<String, String> sessionSettings() {
        return sessionSettings;
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
