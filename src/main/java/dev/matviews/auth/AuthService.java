package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The built-in login: a configured password becomes a signed JWT with role admin or viewer.
 * Passwords are compared in constant time, and repeated failures from one client are answered
 * ever more slowly. Neither passwords nor tokens are ever logged.
 */
@ApplicationScoped
public class AuthService {

    public static final String ADMIN = "admin";
    public static final String VIEWER = "viewer";
    private static final int FREE_FAILURES = 3;
    private static final Duration MAX_DELAY = Duration.ofSeconds(5);

    private final MatviewsConfig.Auth config;
    private static final Duration FAILURE_MEMORY = Duration.ofMinutes(15);
    private static final int MAX_TRACKED_CLIENTS = 10_000;

    /** Failed logins per client since {@code since}; forgotten after FAILURE_MEMORY. */
    private record Failures(int count, Instant since) {
    }

    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    public AuthService(MatviewsConfig config) {
        this.config = config.auth();
    }

    /** A token, or why not. */
    public record Token(String token, String role, Instant expiresAt) {
    }

    public Uni<Token> login(String password, String client) {
        Optional<String> role = password == null ? Optional.empty() : roleOf(password);
        if (role.isEmpty() || config.signingKey().filter(k -> !k.isBlank()).isEmpty()) {
            int failed = recordFailure(client);
            Duration delay = failed <= FREE_FAILURES ? Duration.ZERO
                    : Duration.ofMillis(Math.min(MAX_DELAY.toMillis(), 250L << Math.min(10, failed - FREE_FAILURES)));
            return Uni.createFrom().<Token>failure(new LoginFailedException(config.signingKey().isPresent()
                            ? "wrong password" : "built-in login is not configured (matviews.auth.signing-key)"))
                    .onFailure().call(e -> delay.isZero() ? Uni.createFrom().voidItem()
                            : Uni.createFrom().voidItem().onItem().delayIt().by(delay));
        }
        failures.remove(client);
        Instant expires = Instant.now().plus(config.tokenTtl());
        String token = Jwt.issuer(config.issuer()).subject(role.get()).groups(Set.of(role.get()))
                .expiresAt(expires).signWithSecret(config.signingKey().get());
        return Uni.createFrom().item(new Token(token, role.get(), expires));
    }

    /** Counts a failure; old counts expire, and the table never grows without bound. */
    private int recordFailure(String client) {
        Instant now = Instant.now();
        if (failures.size() > MAX_TRACKED_CLIENTS) {
            failures.values().removeIf(f -> f.since().plus(FAILURE_MEMORY).isBefore(now));
        }
        return failures.merge(client, new Failures(1, now), (old, one) -> old.since().plus(FAILURE_MEMORY).isBefore(now)
                ? one : new Failures(old.count() + 1, old.since())).count();
    }

    private Optional<String> roleOf(String password) {
        // Both compared every time, in constant time, so timing tells nothing about either.
        boolean admin = matches(password, config.adminPassword());
        boolean viewer = matches(password, config.viewerPassword());
        return admin ? Optional.of(ADMIN) : viewer ? Optional.of(VIEWER) : Optional.empty();
    }

    private static boolean matches(String given, Optional<String> expected) {
        byte[] a = sha256(given);
        byte[] b = sha256(expected.filter(s -> !s.isEmpty()).orElse("\\u0000unset" + given + "x"));
        return MessageDigest.isEqual(a, b) && expected.filter(s -> !s.isEmpty()).isPresent();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
