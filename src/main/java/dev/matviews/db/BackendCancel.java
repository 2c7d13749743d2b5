package dev.matviews.db;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.pgclient.PgConnection;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Cancels what a pinned connection's backend runs now. On a direct connection with the protocol's
 * cancel request, which needs no pooled connection. Behind a pooler, PgBouncer 1.18 (Debian 12's)
 * exits on a cancel request whose client closes its socket right after sending it, as the Vert.x
 * client does (pgbouncer/pgbouncer#801), taking every connection down: there the backend is
 * signalled with pg_cancel_backend from a pooled connection instead.
 */
@ApplicationScoped
public class BackendCancel {

    private final Pool pool;
    private final DatabaseConnectOptions options;

    public BackendCancel(Pool pool, DatabaseConnectOptions options) {
        this.pool = pool;
        this.options = options;
    }

    public Uni<Void> cancel(SqlConnection conn) {
        PgConnection pg = PgConnection.cast(conn);
        Integer server = options.serverPid(pg.processId());
        if (server == null || server == pg.processId()) {
            return pg.cancelRequest();
        }
        return pool.preparedQuery("SELECT pg_cancel_backend($1)").execute(Tuple.of(server)).replaceWithVoid();
    }
}
