package dev.matviews.db;

import io.vertx.core.VertxException;
import io.vertx.core.impl.NoStackTraceThrowable;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

/**
 * Recognises a statement that failed because its connection broke (a terminated backend, a
 * failover, a cut TCP connection), in each of the ways the reactive client reports it.
 */
public final class LostConnection {

    private LostConnection() {
    }

    /** What broke, if {@code e} (or a cause) is a broken connection; null otherwise. */
    public static String describe(Throwable e) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof ClosedConnectionException) {
                return "connection lost";
            }
            // How the SQL client fails statements queued when its connection breaks.
            if (t instanceof VertxException && t.getMessage() != null
                    && t.getMessage().startsWith("Pending requests failed to be sent due to connection has been closed")) {
                return "connection lost";
            }
            // What the client says when a statement is sent on a connection it has already seen
            // close (a backend terminated between the pool handing it out and its first query).
            if (t instanceof NoStackTraceThrowable && t.getMessage() != null
                    && t.getMessage().startsWith("Connection is not active now")) {
                return "connection lost";
            }
            // The reactive client fails its statements with the socket's own exception when a read
            // or write on the connection fails ("Connection reset" from a killed backend's socket).
            // Only netty raises those, and the SQL client is the only netty client behind a
            // statement (the HTTP server's socket errors never fail a statement or a resource's
            // result; SmallRye JWT fetches keys with java.net). A failed connect is not a lost
            // connection: whose address it was is the caller's question.
            if (t instanceof IOException io && !(io instanceof ConnectException) && !(io instanceof UnknownHostException)
                    && !(io instanceof NoRouteToHostException) && raisedByNettyChannel(io)) {
                return "connection lost (" + io.getMessage() + ")";
            }
            // The server ended the session (57P01-57P05: terminated, shutting down, idle timeout) or the link (08).
            if (t instanceof PgException pg && pg.getSqlState() != null
                    && (pg.getSqlState().startsWith("08") || pg.getSqlState().startsWith("57P"))) {
                return pg.getErrorMessage() + ", SQLSTATE " + pg.getSqlState();
            }
        }
        return null;
    }

    private static boolean raisedByNettyChannel(IOException e) {
        for (StackTraceElement frame : e.getStackTrace()) {
            if (frame.getClassName().startsWith("io.netty.channel.")) {
                return true;
            }
        }
        return false;
    }
}
