package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.Config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * The built-in login: a configured password becomes a signed JWT with role admin or viewer.
 * Passwords are compared in constant time, and only attempts that {@link LoginThrottle} admits
 * are compared at all. Neither passwords nor tokens are ever logged.
 */
@ApplicationScoped
public class AuthService {

    public static final String ADMIN = "admin";
    public static final String VIEWER = "viewer";

    private final MatviewsConfig.Auth config;
    private final LoginThrottle throttle;
    private final boolean readOpen;
    private final boolean writeOpen;

    public AuthService(MatviewsConfig config, LoginThrottle throttle, Config all) {
        this.config = config.auth();
        this.throttle = throttle;
        this.readOpen = permits(all, "read");
        this.writeOpen = permits(all, "write");
    }

    private static boolean permits(Config all, String permission) {
        return "permit".equals(all.getOptionalValue("quarkus.http.auth.permission." + permission + ".policy", String.class)
                .orElse(""));
    }

    /** A token, or why not. */
    public record Token(String token, String role, Instant expiresAt) {
    }

    /** What a caller may do, and whether signing in could change it. */
    public record Session(String role, boolean authRequired) {
    }

    /** Whether anyone may write through the admin API without a token (dev mode and tests). */
    public boolean writesOpen() {
        return writeOpen;
    }

    public Session session(SecurityIdentity who) {
        boolean required = !(readOpen && writeOpen);
        if (who.hasRole(ADMIN)) {
            return new Session(ADMIN, required);
        }
        if (who.hasRole(VIEWER)) {
            return new Session(VIEWER, required);
        }
        // Anonymous and let in: the read policy admits anyone; the write policy says whether to write too.
        return new Session(writeOpen ? ADMIN : VIEWER, required);
    }

    public Uni<Token> login(String password, String client) {
        return throttle.admit(client).flatMap(wait -> {
            if (wait.isPresent()) {
                return Uni.createFrom().failure(new LoginThrottledException(wait.get()));
            }
            Optional<String> role = password == null ? Optional.empty() : roleOf(password);
            if (config.signingKey().filter(k -> !k.isBlank()).isEmpty()) {
                return Uni.createFrom().failure(new LoginFailedException(
                        "built-in login is not configured (matviews.auth.signing-key)"));
            }
            if (role.isEmpty()) {
                return Uni.createFrom().failure(new LoginFailedException("wrong password"));
            }
            Instant expires = Instant.now().plus(config.tokenTtl());
            String token = Jwt.issuer(config.issuer()).subject(role.get()).groups(Set.of(role.get()))
                    .claim(PASSWORD_VERSION, passwordVersion(role.get()).orElseThrow())
                    .expiresAt(expires).signWithSecret(config.signingKey().get());
            return throttle.succeeded(client).replaceWith(new Token(token, role.get(), expires));
        });
    }

    /** The claim of a built-in token that ties it to the password it was issued for. */
    public static final String PASSWORD_VERSION = "pwv";

    /**
     * A fingerprint of the role's current password, keyed with the signing key (it tells nothing
     * about the password): a token carries the one of its login, and changing the password (on
     * every replica, as the Secret is) makes every token issued before it invalid.
     */
    public Optional<String> passwordVersion(String role) {
        Optional<String> password = ADMIN.equals(role) ? config.adminPassword() : VIEWER.equals(role)
                ? config.viewerPassword() : Optional.empty();
        Optional<String> key = config.signingKey().filter(k -> !k.isBlank());
        if (password.filter(p -> !p.isEmpty()).isEmpty() || key.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(passwordVersion(key.get(), role, password.get()));
    }

    static String passwordVersion(String signingKey, String role, String password) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(signingKey.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] digest = mac.doFinal(("matviews password " + role + "\u0000" + password).getBytes(StandardCharsets.UTF_8));
            return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(digest, 16));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The issuer of built-in tokens. */
    public String issuer() {
        return config.issuer();
    }

    /** Whether built-in tokens are issued and verified here (a signing key is set). */
    public boolean builtIn() {
        return config.signingKey().filter(k -> !k.isBlank()).isPresent();
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
