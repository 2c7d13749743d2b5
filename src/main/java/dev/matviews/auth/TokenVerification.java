package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.config.JWTAuthContextInfoProvider;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

/**
 * How incoming bearer tokens are verified. With matviews.auth.signing-key set: built-in HS256
 * tokens from any replica (same key, same issuer). Without it: whatever mp.jwt.* configures,
 * typically an external identity provider's JWKS.
 */
@ApplicationScoped
public class TokenVerification {

    /** SmallRye JWT reads keys as PEM or JWK; a shared secret is easier to keep in a Secret as text. */
    @Produces
    @Alternative
    @Priority(1)
    @ApplicationScoped
    JWTAuthContextInfo verification(JWTAuthContextInfoProvider configured, MatviewsConfig config) {
        Optional<String> key = config.auth().signingKey().filter(k -> !k.isBlank());
        if (key.isEmpty()) {
            return configured.getContextInfo();
        }
        JWTAuthContextInfo info = new JWTAuthContextInfo(
                new SecretKeySpec(key.get().getBytes(StandardCharsets.UTF_8), "HmacSHA256"), config.auth().issuer());
        info.setSignatureAlgorithm(Set.of(SignatureAlgorithm.HS256));
        return info;
    }
}
