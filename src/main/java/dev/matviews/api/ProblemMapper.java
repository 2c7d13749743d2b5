package dev.matviews.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import dev.matviews.auth.LoginThrottledException;
import dev.matviews.problem.MatviewsException;
import dev.matviews.refresh.RefreshFailedException;
import dev.matviews.refresh.RefreshNotPermittedException;
import dev.matviews.db.DatabaseConnectOptions;
import dev.matviews.db.LostConnection;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import jakarta.inject.Inject;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.stream.Collectors;

/**
 * Every error leaves as application/problem+json. Details are written for the client: no stack
 * traces and no class names, whatever failed.
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    private final DatabaseConnectOptions database;

    @Inject
    public ProblemMapper(DatabaseConnectOptions database) {
        this.database = database;
    }

    /** Without the database's address (unit tests): no I/O failure outside the SQL client is the database's. */
    ProblemMapper() {
        this(null);
    }
    /** character_not_in_repertoire (a NUL), untranslatable_character: text PostgreSQL refuses. */
    private static final java.util.Set<String> UNSTORABLE = java.util.Set.of("22021", "22P05");

    @ServerExceptionMapper
    public Response matviews(MatviewsException e) {
        ProblemType type = ProblemType.of(e);
        String sqlState = e instanceof RefreshFailedException f ? f.sqlState()
                : e instanceof RefreshNotPermittedException ? RefreshNotPermittedException.SQLSTATE : null;
        Response.ResponseBuilder response = Response.status(type.status());
        if (e instanceof LoginThrottledException throttled) {
            response.header("Retry-After", Long.toString(throttled.retryAfterSeconds()));
        } else if (type.status() == 503) {
            response.header("Retry-After", "1");
        }
        return response.type(Problem.MEDIA_TYPE).entity(Problem.of(type, e.getMessage(), sqlState, e.runId())).build();
    }

    @ServerExceptionMapper
    public Response badJson(JsonProcessingException e) {
        String detail;
        if (String.valueOf(e.getOriginalMessage()).contains("Invalid UTF-8")) {
            detail = "request body is not valid UTF-8";
        } else if (e instanceof StreamConstraintsException) {
            detail = InputLimits.constraintDetail(e.getOriginalMessage());
        } else if (e instanceof JsonParseException) {
            detail = "request body is not valid JSON";
            if (e.getLocation() != null) {
                detail += " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            }
        } else if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            String field = m.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining("."));
            detail = "request body field '" + field + "' has the wrong type";
        } else {
            detail = "request body must be a JSON object";
        }
        return problem(Problem.of(ProblemType.INVALID_REQUEST, detail, null));
    }

    /** No or bad credentials (an HTTP permission of /api/admin checked at the JAX-RS level). */
    @ServerExceptionMapper({io.quarkus.security.AuthenticationFailedException.class,
            io.quarkus.security.UnauthorizedException.class,
            io.quarkus.security.AuthenticationCompletionException.class})
    public Response unauthorized(Exception e) {
        return Response.status(401).type(Problem.MEDIA_TYPE).header("WWW-Authenticate", "Bearer")
                .entity(new Problem(Problem.TYPE_PREFIX + "unauthorized", "Unauthorized", 401,
                        "a valid bearer token is required", 401, "a valid bearer token is required", null, null))
                .build();
    }

    @ServerExceptionMapper
    public Response forbidden(io.quarkus.security.ForbiddenException e) {
        return problem(new Problem(Problem.TYPE_PREFIX + "forbidden", "Forbidden", 403,
                "this token's role may not do this", 403, "this token's role may not do this", null, null));
    }

    /** Takes precedence over Quarkus's built-in mapper, whose body is not a problem. */
    @ServerExceptionMapper
    public Response mismatchedJson(MismatchedInputException e) {
        return badJson(e);
    }

    /** The HTTP layer's own refusals: unknown route, wrong method or media type, and so on. */
    @ServerExceptionMapper
    public Response http(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return badJson(json);
        }
        int status = e.getResponse().getStatus();
        if (status == 400) {
            return problem(Problem.of(ProblemType.INVALID_REQUEST, "malformed request", null));
        }
        if (status >= 500) {
            LOG.error("request failed", e);
        }
        Response.StatusType info = Response.Status.fromStatusCode(status);
        String title = info != null ? info.getReasonPhrase() : "HTTP " + status;
        String slug = title.toLowerCase().replaceAll("[^a-z0-9]+", "-");
        String detail = switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 415 -> "send the request body as application/json";
            case 406 -> "this resource answers application/json";
            default -> title;
        };
        return problem(new Problem(Problem.TYPE_PREFIX + slug, title, status, detail, status, detail, null, null));
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e) {
        String unavailable = databaseUnavailable(e);
        if (unavailable != null) {
            // A restart, failover or terminated backend: nothing was done, and a retry may work.
            LOG.warnf("database unavailable: %s", unavailable);
            return Response.status(503).type(Problem.MEDIA_TYPE).header("Retry-After", "1")
                    .entity(Problem.of(ProblemType.DATABASE_UNAVAILABLE, "the database connection failed ("
                            + unavailable + "); nothing was changed, try again", null)).build();
        }
        if (e instanceof PgException pg && UNSTORABLE.contains(pg.getSqlState())) {
            // Defence in depth: input checks should have refused it; the statement changed nothing.
            LOG.warnf("a request value PostgreSQL cannot store got past the input checks: %s", pg.getErrorMessage());
            return problem(Problem.of(ProblemType.INVALID_REQUEST, "a value in the request cannot be stored ("
                    + pg.getErrorMessage() + ")", null));
        }
        LOG.error("unexpected error", e);
        return problem(Problem.of(ProblemType.INTERNAL, "unexpected error; the server log has the details", null));
    }

    /** What broke, if {@code e} is a lost or refused database connection; null otherwise. */
    String databaseUnavailable(Throwable e) {
        PgConnectOptions db = null;
        if (database != null) {
            try {
                db = database.copy();
            } catch (IllegalStateException noPoolYet) {
                // no connection was ever made: no failure can be the database's yet
            }
        }
        return databaseUnavailable(e, db == null ? null : db.getHost(), db == null ? -1 : db.getPort());
    }

    /**
     * What broke, if {@code e} is a lost or refused connection to the database at
     * {@code host}:{@code port}; null otherwise. An I/O failure counts only if it is the
     * database's: one the SQL client failed its pending statements with, one raised inside the
     * client, or a failed connect naming the database's address. Others (a client of the HTTP
     * API that went away, an identity provider that cannot be reached) are not.
     */
    static String databaseUnavailable(Throwable e, String host, int port) {
        String lost = LostConnection.describe(e);
        if (lost != null) {
            return lost;
        }
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof IOException io && fromDatabase(io, host, port)) {
                return "connection lost or refused";
            }
        }
        return null;
    }

    private static boolean fromDatabase(IOException e, String host, int port) {
        for (StackTraceElement frame : e.getStackTrace()) {
            if (frame.getClassName().startsWith("io.vertx.pgclient.") || frame.getClassName().startsWith("io.vertx.sqlclient.")) {
                return true;
            }
        }
        String message = e.getMessage();
        return host != null && message != null && (e instanceof ConnectException || e instanceof UnknownHostException
                || e instanceof NoRouteToHostException) && message.contains(host)
                && (e instanceof UnknownHostException || message.contains(":" + port));
    }

    private static Response problem(Problem problem) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem).build();
    }
}
