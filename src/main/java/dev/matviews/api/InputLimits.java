package dev.matviews.api;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.matviews.problem.InvalidInputException;
import io.quarkus.jackson.ObjectMapperCustomizer;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.Json;
import io.vertx.ext.web.Router;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Limits on what a request may carry, applied before any resource sees it: no request body
 * nests deeper, holds longer strings or longer numbers than any real request needs, and no
 * query parameter carries a NUL or other control character (PostgreSQL cannot store a NUL, and
 * no parameter of this API needs one). The body size is capped by quarkus.http.limits.max-body-size.
 */
@Singleton
public class InputLimits implements ObjectMapperCustomizer {

    /** The deepest real body is a schedule's payload: three levels. */
    static final int MAX_NESTING = 16;
    static final int MAX_STRING = 16_384;
    static final int MAX_NUMBER_DIGITS = 40;

    private static final Duration LINGER = Duration.ofSeconds(10);

    private final long maxBody;

    public InputLimits(@ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize maxBody) {
        this.maxBody = maxBody.asLongValue();
    }

    /**
     * Quarkus refuses a declared body over the limit with a bare 413 (order -2): this answers
     * first, as a problem. A chunked body over the limit fails while it is
     * read and reaches ProblemMapper.
     */
    void oversizedBodies(@Observes Router router) {
        router.route().order(-3).handler(ctx -> {
            String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && length.length() < 19 && length.chars().allMatch(Character::isDigit)
                    && Long.parseLong(length) > maxBody) {
                String detail = "request body is larger than " + (maxBody / 1024) + " KiB";
                HttpServerRequest request = ctx.request();
                ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                        .putHeader(HttpHeaders.CONNECTION, "close")
                        .end(Json.encode(Problem.of(ProblemType.PAYLOAD_TOO_LARGE, detail, null)));
                // A lingering close, as web servers do it: the client is told not to reuse the
                // connection, and the body it is still sending is read and dropped before the
                // connection closes; closing on unread data would reset the connection, and the
                // client might never see the answer. A sender still going after LINGER is cut off.
                if (request.isEnded()) {
                    request.connection().close();
                } else {
                    long timer = ctx.vertx().setTimer(LINGER.toMillis(), t -> request.connection().close());
                    request.handler(ignored -> { }).endHandler(ended -> {
                        ctx.vertx().cancelTimer(timer);
                        request.connection().close();
                    }).resume();
                }
                return;
            }
            ctx.next();
        });
    }

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING).maxStringLength(MAX_STRING).maxNumberLength(MAX_NUMBER_DIGITS).build());
    }

    @ServerRequestFilter
    public Response controlCharactersInQuery(UriInfo uri) {
        for (Map.Entry<String, List<String>> parameter : uri.getQueryParameters().entrySet()) {
            for (String value : parameter.getValue()) {
                if (hasControlCharacter(parameter.getKey()) || hasControlCharacter(value)) {
                    return Response.status(400).type(Problem.MEDIA_TYPE).entity(Problem.of(ProblemType.INVALID_REQUEST,
                            "query parameter " + InvalidInputException.quoted(parameter.getKey())
                                    + " must not contain control characters such as NUL", null)).build();
                }
            }
        }
        return null;
    }

    private static boolean hasControlCharacter(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** What a refused body was told, without naming the parser's classes. */
    static String constraintDetail(String parserMessage) {
        String message = parserMessage == null ? "" : parserMessage;
        if (message.contains("nesting depth")) {
            return "request body is nested too deeply (at most " + MAX_NESTING + " levels)";
        }
        if (message.contains("Number value length") || message.contains("number")) {
            return "a number in the request body has too many digits (at most " + MAX_NUMBER_DIGITS + ")";
        }
        return "a string in the request body is too long (at most " + MAX_STRING + " characters)";
    }
}
