package dev.matviews.db;

import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.pubsub.PgChannel;
import io.vertx.mutiny.pgclient.pubsub.PgSubscriber;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.pgclient.PgConnectOptions;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The instance's one LISTEN connection, outside the pool, for as long as the instance runs: the
 * pool's own connect options (TLS included), its first connect retried with backoff until it
 * succeeds and a lost connection re-established the same way. Each channel's {@code onListening}
 * runs whenever LISTEN is (re)established, so its owner can catch up on what it missed.
 */
@ApplicationScoped
public class ListenConnection {

    private static final Logger LOG = Logger.getLogger(ListenConnection.class);
    static final Duration FIRST_RETRY = Duration.ofMillis(250);
    static final Duration MAX_RETRY = Duration.ofSeconds(10);

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile PgSubscriber subscriber;
    private volatile boolean closed;
    private volatile boolean shuttingDown;
    private volatile String lastError;

    @Inject
    public ListenConnection(Vertx vertx, Pool pool, DatabaseConnectOptions options) {
        // Using the pool creates it (beans are created lazily), and with it the options.
        this(vertx, poolOptions(pool, options));
    }

    private static PgConnectOptions poolOptions(Pool pool, DatabaseConnectOptions options) {
        pool.size(); // the pool beans are client proxies: a call creates the pool behind them
        return options.copy();
    }

    /** On given options (tests). */
    public ListenConnection(Vertx vertx, PgConnectOptions options) {
        // Its Vert.x client meters are named like the pool's (postgresql.*), tagged clientName=listen.
        options.setMetricsName("postgresql|listen");
        this.vertx = vertx;
        this.options = options;
    }

    static Duration backoff(int attempt) {
        long ms = FIRST_RETRY.toMillis() << Math.min(10, Math.max(0, attempt));
        return Duration.ofMillis(Math.min(ms, MAX_RETRY.toMillis()));
    }

    /** A channel, its handlers, and where it is registered now. */
    private static final class Channel {
        final String name;
        final Runnable onListening;
        final Consumer<String> onNotification;
        volatile PgChannel registered;

        Channel(String name, Runnable onListening, Consumer<String> onNotification) {
            this.name = name;
            this.onListening = onListening;
            this.onNotification = onNotification;
        }

        void registerOn(PgSubscriber subscriber) {
            registered = subscriber.channel(name).subscribeHandler(onListening).handler(onNotification);
        }
    }

    /** Listens on {@code channel}; register before {@link #start()} or after, either works. */
    public Subscription listen(String channel, Runnable onListening, Consumer<String> onNotification) {
        Channel ch = new Channel(channel, onListening, onNotification);
        // With connect(): a channel is registered on the current subscriber exactly once.
        synchronized (this) {
            channels.add(ch);
            if (subscriber != null) {
                ch.registerOn(subscriber);
            }
        }
        return () -> {
            channels.remove(ch);
            PgChannel registered = ch.registered;
            // At shutdown the connection closes anyway: an UNLISTEN racing its close is logged as an ERROR by Vert.x.
            if (registered != null && !shuttingDown) {
                registered.handler(null);
            }
        };
    }

    /** A channel listened on; closing it stops the handler. */
    public interface Subscription {
        void close();
    }

    void onStart(@Observes StartupEvent event) {
        start();
    }

    /** Before anything that listens stops: their UNLISTENs are left to the connection's close. */
    void onShutdown(@Observes @Priority(1) ShutdownEvent event) {
        shuttingDown = true;
    }

    /** After everything that listens has stopped. */
    void onStop(@Observes @Priority(5000) ShutdownEvent event) {
        close();
    }

    /** Connects, retrying with backoff until it succeeds or the connection is closed. Idempotent. */
    public void start() {
        if (started.getAndSet(true)) {
            return;
        }
        connect(0);
    }

    /**
     * A PgSubscriber whose first connect failed does not connect again, so each attempt gets a
     * fresh one; once connected, the subscriber itself re-establishes a lost connection.
     */
    private void connect(int attempt) {
        if (closed) {
            return;
        }
        PgSubscriber candidate = PgSubscriber.subscriber(vertx, new PgConnectOptions(options))
                .reconnectPolicy(retries -> backoff(retries).toMillis());
        synchronized (this) {
            channels.forEach(ch -> ch.registerOn(candidate));
            subscriber = candidate;
        }
        candidate.connect().subscribe().with(ok -> {
            if (attempt > 0) {
                LOG.infof("listening for notifications after %d failed attempt(s)", attempt);
            }
            lastError = null;
            if (closed) {
                candidate.close().subscribe().with(done -> { }, e -> { });
            }
        }, e -> {
            lastError = e.getMessage();
            candidate.close().subscribe().with(done -> { }, ignored -> { });
            Duration delay = backoff(attempt);
            if (attempt == 0) {
                LOG.warnf("cannot listen for notifications yet (%s); retrying with backoff", e.getMessage());
            } else {
                LOG.debugf("listen attempt %s failed (%s); next in %s ms", Integer.toString(attempt + 1), e.getMessage(),
                        Long.toString(delay.toMillis()));
            }
            vertx.setTimer(delay.toMillis(), id -> connect(attempt + 1));
        });
    }

    /** Whether LISTEN is established right now. */
    public boolean connected() {
        PgSubscriber current = subscriber;
        return !closed && current != null && current.actualConnection() != null && !current.closed();
    }

    /** Why it is not connected (the last connect failure, if any); null while connected. */
    public String lastError() {
        if (connected()) {
            return null;
        }
        String error = lastError;
        return error != null ? error : subscriber == null ? "not started" : "connection lost, reconnecting";
    }

    public void close() {
        closed = true;
        PgSubscriber current = subscriber;
        if (current != null) {
            current.close().subscribe().with(ok -> { }, e -> { });
        }
    }
}
