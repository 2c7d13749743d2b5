package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.nio.charset.StandardCharsets;

/**
 * Refuses to start with a signing key that cannot sign: HS256 needs at least 32 bytes, and with
 * fewer every login answered 500. The placeholder of deploy/matviews.yml is refused as well.
 * Runs before the database is awaited, so a bad key fails the pod at once.
 */
@ApplicationScoped
public class SigningKeyCheck {

    static final int MIN_BYTES = 32;
    static final String EXAMPLE_KEY = "REPLACE-with-the-output-of-openssl-rand-base64-48";

    void check(@Observes @Priority(-10) StartupEvent event, MatviewsConfig config) {
        config.auth().signingKey().filter(k -> !k.isBlank()).ifPresent(key -> {
            int bytes = key.getBytes(StandardCharsets.UTF_8).length;
            if (bytes < MIN_BYTES) {
                throw new IllegalStateException("matviews.auth.signing-key (MATVIEWS_AUTH_SIGNING_KEY) is " + bytes
                        + " bytes long; HS256 needs at least " + MIN_BYTES + " (generate one with: openssl rand -base64 48)");
            }
            if (key.equals(EXAMPLE_KEY)) {
                throw new IllegalStateException("matviews.auth.signing-key (MATVIEWS_AUTH_SIGNING_KEY) is still the"
                        + " placeholder of deploy/matviews.yml; generate one with: openssl rand -base64 48");
            }
        });
    }
}
