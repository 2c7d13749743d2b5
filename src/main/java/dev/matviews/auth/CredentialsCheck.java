package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.Config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Refuses to start on credentials that cannot be right. Always: a signing key that cannot sign
 * (HS256 needs at least 32 bytes; with fewer every login answered 500) or is a placeholder. In
 * production (not dev mode or tests) also: an admin or viewer password, or the database
 * password, that is a placeholder shipped in deploy/ (any value starting with REPLACE-, and the
 * change-me values of earlier releases), and admin or viewer passwords shorter than
 * {@value #MIN_PASSWORD} characters. Runs before the database is awaited, so the pod fails at
 * once, saying which setting and why.
 */
@ApplicationScoped
public class CredentialsCheck {

    static final int MIN_BYTES = 32;
    static final int MIN_PASSWORD = 12;
    /** Placeholders deploy/matviews.yml ships or shipped. */
    static final Set<String> PLACEHOLDERS = Set.of("change-me", "change-me-too", "change-me-three", "changeme",
            "REPLACE-with-the-output-of-openssl-rand-base64-48");

    void check(@Observes @Priority(-10) StartupEvent event, MatviewsConfig config, Config all) {
        List<String> problems = problems(config.auth(), all.getOptionalValue("quarkus.datasource.password", String.class),
                LaunchMode.current() == LaunchMode.NORMAL);
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
    }

    /** What is wrong with the credentials; empty if nothing. {@code production}: the checks of passwords too. */
    static List<String> problems(MatviewsConfig.Auth auth, Optional<String> databasePassword, boolean production) {
        List<String> problems = new ArrayList<>();
        auth.signingKey().filter(k -> !k.isBlank()).ifPresent(key -> {
            int bytes = key.getBytes(StandardCharsets.UTF_8).length;
            if (bytes < MIN_BYTES) {
                problems.add("matviews.auth.signing-key (MATVIEWS_AUTH_SIGNING_KEY) is " + bytes
                        + " bytes long; HS256 needs at least " + MIN_BYTES + " (generate one with: openssl rand -base64 48)");
            } else if (placeholder(key)) {
                problems.add("matviews.auth.signing-key (MATVIEWS_AUTH_SIGNING_KEY) is still the"
                        + " placeholder of deploy/matviews.yml; generate one with: openssl rand -base64 48");
            }
        });
        if (!production) {
            return problems;
        }
        password("matviews.auth.admin-password (MATVIEWS_AUTH_ADMIN_PASSWORD)", auth.adminPassword(), problems);
        password("matviews.auth.viewer-password (MATVIEWS_AUTH_VIEWER_PASSWORD)", auth.viewerPassword(), problems);
        databasePassword.filter(CredentialsCheck::placeholder).ifPresent(p -> problems.add(
                "quarkus.datasource.password (QUARKUS_DATASOURCE_PASSWORD) is still the placeholder of deploy/matviews.yml;"
                        + " set the password of matviews' database role"));
        return problems;
    }

    private static void password(String name, Optional<String> value, List<String> problems) {
        value.filter(p -> !p.isEmpty()).ifPresent(p -> {
            if (placeholder(p)) {
                problems.add(name + " is still the placeholder of deploy/matviews.yml; choose a password of at least "
                        + MIN_PASSWORD + " characters (for example: openssl rand -base64 24)");
            } else if (p.codePointCount(0, p.length()) < MIN_PASSWORD) {
                problems.add(name + " is " + p.codePointCount(0, p.length()) + " characters long; it must have at least "
                        + MIN_PASSWORD + " (for example: openssl rand -base64 24)");
            }
        });
    }

    static boolean placeholder(String value) {
        String v = value.trim();
        return PLACEHOLDERS.contains(v) || v.toUpperCase(Locale.ROOT).startsWith("REPLACE-");
    }
}
