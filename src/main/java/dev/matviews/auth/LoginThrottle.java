package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Admits login attempts per client before any password is checked: a few at once, then one per
 * doubling backoff, so parallel guesses gain nothing and a correct guess waits its turn like a
 * wrong one. A success clears the client's record.
 *
 * <p>The budget is kept in the database (V13), so every replica draws on the same one and a
 * restart gives nothing back. A client's count decays by one per {@code forget-after} without an
 * attempt: its free attempts come back slowly, not all at once each period. The table holds at
 * most {@code tracked-clients} records; a new client that finds it full pushes out records that
 * decayed to nothing, then the least tried ones: never a guesser's record, and a flood of
 * addresses cannot lock new clients out (each gets its own free attempts).
 */
@ApplicationScoped
public class LoginThrottle {

    private final Pool pool;
    private final LoginAttemptRepository attempts;
    private final MatviewsConfig.Auth.Login config;

    @Inject
    public LoginThrottle(Pool pool, LoginAttemptRepository attempts, MatviewsConfig config) {
        this(pool, attempts, config.auth().login());
    }

    LoginThrottle(Pool pool, LoginAttemptRepository attempts, MatviewsConfig.Auth.Login config) {
        this.pool = pool;
        this.attempts = attempts;
        this.config = config;
    }

    /** Empty if the attempt may go ahead (and is counted); else how long the client must wait. */
    public Uni<Optional<Duration>> admit(String clientAddress) {
        return admit(clientAddress, null);
    }

    /** As {@link #admit(String)}, at a given instant instead of the database's clock (tests). */
    Uni<Optional<Duration>> admit(String clientAddress, Instant at) {
        return attempts.admit(pool, key(clientAddress), at, config.freeAttempts(), config.maxBackoff().toMillis(),
                        config.forgetAfter().toMillis(), config.trackedClients())
                .map(waitMs -> waitMs > 0 ? Optional.of(Duration.ofMillis(waitMs)) : Optional.empty());
    }

    /** A correct password: this client starts afresh. */
    public Uni<Void> succeeded(String clientAddress) {
        return attempts.forget(pool, key(clientAddress));
    }

    Uni<Long> tracked() {
        return attempts.tracked(pool);
    }

    /** IPv6 clients are counted per /64: one host usually has a whole /64 to rotate through. */
    static String key(String address) {
        if (address == null || address.indexOf(':') < 0 || !address.matches("\\[?[0-9a-fA-F:.]+(%\\w+)?]?")) {
            return address == null ? "?" : address;
        }
        try {
            byte[] bytes = InetAddress.getByName(address.startsWith("[") ? address.substring(1, address.length() - 1)
                    : address).getAddress();
            if (bytes.length != 16) {
                return address;
            }
            StringBuilder prefix = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                prefix.append(Integer.toHexString(((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff))).append(':');
            }
            return prefix.append(":/64").toString();
        } catch (UnknownHostException e) {
            return address;
        }
    }
}
