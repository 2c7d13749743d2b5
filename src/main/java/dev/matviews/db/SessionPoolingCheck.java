package dev.matviews.db;

import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;

/**
 * Refuses to start behind a pooler that does not give each client connection its own server
 * session (PgBouncer's transaction or statement pooling). There a session advisory lock taken by
 * one statement is held by a server connection that the next transaction of another client may
 * get, so two refreshes of one view would no longer exclude each other, and a lock could be
 * released by nobody.
 *
 * <p>The probe: client connection A reads its backend pid; client connections B1 and B2 then each
 * hold a transaction open and read theirs; A reads its pid again. On a direct or session-pooled
 * connection A keeps its server session (same pid) and no B can have it. A transaction pooler
 * gives A's idle server to a B (it reuses the most recent idle server first), and A a different
 * one. Either sign refuses the start.
 */
@ApplicationScoped
public class SessionPoolingCheck {

    private static final Logger LOG = Logger.getLogger(SessionPoolingCheck.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String PID = "SELECT pg_backend_pid()";

    private final Vertx vertx;
    private final Pool pool;
    private final DatabaseConnectOptions options;

    public SessionPoolingCheck(Vertx vertx, Pool pool, DatabaseConnectOptions options) {
        this.vertx = vertx;
        this.pool = pool;
        this.options = options;
    }

    /** The outcome: {@code pooled} says why the start is refused, null if each connection keeps its session. */
    public record Verdict(int firstPid, List<Integer> otherPids, int laterPid) {
        public String pooled() {
            if (otherPids.contains(firstPid) || laterPid != firstPid) {
                return "consecutive statements of one connection ran in different server sessions (backend pid "
                        + firstPid + ", then " + laterPid + "; other connections got " + otherPids + ")";
            }
            return null;
        }
    }

    /** After the schema migration (priority -1), before anything takes a lock. */
    void onStart(@Observes @Priority(0) StartupEvent event) {
        Verdict verdict;
        try {
            verdict = probe().await().atMost(TIMEOUT);
        } catch (RuntimeException e) {
            LOG.warnf("could not check that the database connection keeps its session (%s); starting anyway",
                    e.getMessage());
            return;
        }
        String pooled = verdict.pooled();
        if (pooled != null) {
            throw new IllegalStateException("matviews needs a direct connection to PostgreSQL or a pooler in session mode,"
                    + " but " + pooled + ", as behind PgBouncer in transaction or statement pooling mode. There the session"
                    + " advisory locks that keep two refreshes of a view apart cannot hold. Point"
                    + " QUARKUS_DATASOURCE_REACTIVE_URL (and QUARKUS_DATASOURCE_JDBC_URL) at PostgreSQL or at a pool with"
                    + " pool_mode = session.");
        }
        LOG.debugf("each connection keeps its server session (backend pid %d)", verdict.firstPid());
    }

    /** Runs the probe on connections of the pool's own options, outside the pool (whatever its size). */
    public Uni<Verdict> probe() {
        pool.size(); // creates the pool, and with it the options
        return connect().flatMap(a -> pid(a).flatMap(first -> connect().flatMap(b1 -> connect().flatMap(b2 ->
                        holdTransaction(b1).flatMap(p1 -> holdTransaction(b2).flatMap(p2 -> pid(a)
                                        .map(later -> new Verdict(first, List.of(p1, p2), later))))
                                .eventually(() -> close(b1).flatMap(v -> close(b2)))))
                .eventually(() -> close(a))));
    }

    private Uni<SqlConnection> connect() {
        return PgConnection.connect(vertx, options.copy()).map(c -> (SqlConnection) c);
    }

    private static Uni<Integer> pid(SqlConnection c) {
        return c.query(PID).execute().map(rows -> rows.iterator().next().getInteger(0));
    }

    /** Opens a transaction (left open until the connection closes) and reads the backend pid inside it. */
    private static Uni<Integer> holdTransaction(SqlConnection c) {
        return c.query("BEGIN").execute().flatMap(r -> pid(c));
    }

    private static Uni<Void> close(SqlConnection c) {
        return c.close().onFailure().recoverWithNull();
    }
}
