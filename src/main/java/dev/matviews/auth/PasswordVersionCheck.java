package dev.matviews.auth;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.SecurityIdentityAugmentor;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.json.JsonString;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

import java.util.Optional;

/**
 * A built-in token is valid only for the password it was issued for: it carries the password's
 * fingerprint ({@link AuthService#PASSWORD_VERSION}), and once the password changes (the Secret
 * updated, the replicas restarted) every token issued before is refused with 401. Tokens of an
 * identity provider (another issuer, or no signing key) are not concerned.
 */
@ApplicationScoped
public class PasswordVersionCheck implements SecurityIdentityAugmentor {

    private static final Logger LOG = Logger.getLogger(PasswordVersionCheck.class);

    private final AuthService auth;

    public PasswordVersionCheck(AuthService auth) {
        this.auth = auth;
    }

    @Override
    public Uni<SecurityIdentity> augment(SecurityIdentity identity, AuthenticationRequestContext context) {
        if (identity.isAnonymous() || !auth.builtIn() || !(identity.getPrincipal() instanceof JsonWebToken jwt)
                || !auth.issuer().equals(jwt.getIssuer())) {
            return Uni.createFrom().item(identity);
        }
        String role = identity.hasRole(AuthService.ADMIN) ? AuthService.ADMIN : AuthService.VIEWER;
        Optional<String> current = auth.passwordVersion(role);
        Object claim = jwt.getClaim(AuthService.PASSWORD_VERSION);
        String given = claim instanceof JsonString js ? js.getString() : claim == null ? null : claim.toString();
        if (current.isEmpty() || !current.get().equals(given)) {
            LOG.debugf("refused a %s token issued for another password", role);
            return Uni.createFrom().failure(new AuthenticationFailedException(
                    "the token was issued before the " + role + " password changed; log in again"));
        }
        return Uni.createFrom().item(identity);
    }
}
