package dev.matviews.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.matviews.auth.AuthService;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.security.identity.CurrentIdentityAssociation;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import org.jboss.resteasy.reactive.RestResponse;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;

/** The original system's admin login route: a password for a bearer token. */
@Path("/api/admin/auth")
@Tag(name = "auth", description = "Built-in login")
public class AuthResource {

    private static final int MAX_PASSWORD = 1024;

    private final AuthService auth;
    private final CurrentIdentityAssociation identity;

    public AuthResource(AuthService auth, CurrentIdentityAssociation identity) {
        this.auth = auth;
        this.identity = identity;
    }

    @Schema(name = "Session", description = "Who the caller is to the admin API")
    @RegisterForReflection
    public record SessionResponse(
            @Schema(description = "admin or viewer: what the caller may do", enumeration = {"admin", "viewer"})
            String role,
            @Schema(description = "Whether this service requires a token (false in dev mode and tests, where the API is open)")
            boolean authRequired) {
    }

    @GET
    @Path("/session")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The caller's role, and whether a token is required at all (for a console deciding what to offer)")
    @APIResponse(responseCode = "200", description = "The caller's role",
            content = @Content(schema = @Schema(implementation = SessionResponse.class)))
    @APIResponse(responseCode = "401", description = "Tokens are required and none, or an invalid or expired one, was sent",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<SessionResponse> session() {
        return identity.getDeferredIdentity().map(who -> {
            AuthService.Session session = auth.session(who);
            return new SessionResponse(session.role(), session.authRequired());
        });
    }

    @Schema(name = "TokenResponse")
    @RegisterForReflection
    public record TokenResponse(String token, String role, Instant expiresAt) {
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Exchange the admin or viewer password for a signed token (Authorization: Bearer ...)")
    @APIResponse(responseCode = "200", description = "A token valid on every replica until expiresAt",
            content = @Content(schema = @Schema(implementation = TokenResponse.class)))
    @APIResponse(responseCode = "400", description = "No password given",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "Wrong password",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "429", description = "Too many attempts from this client address (type"
            + " too-many-login-attempts): refused without looking at the password; Retry-After says when to try again",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<RestResponse<TokenResponse>> login(JsonNode body, @Context HttpServerRequest request) {
        return Uni.createFrom().deferred(() -> {
            String password = Requests.text(Requests.object(body), "password").value();
            if (password == null) {
                throw new dev.matviews.problem.InvalidInputException("password is required");
            }
            if (password.length() > MAX_PASSWORD) {
                throw new dev.matviews.problem.InvalidInputException("password must be at most " + MAX_PASSWORD
                        + " characters");
            }
            String client = request.remoteAddress() == null ? "?" : request.remoteAddress().hostAddress();
            // A token is a credential: no cache on the way, nor the browser's, may keep it.
            return auth.login(password, client).map(t -> RestResponse.ResponseBuilder
                    .ok(new TokenResponse(t.token(), t.role(), t.expiresAt()))
                    .header("Cache-Control", "no-store").header("Pragma", "no-cache").build());
        });
    }
}
