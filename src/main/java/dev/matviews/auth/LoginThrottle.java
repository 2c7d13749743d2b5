package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Admits login attempts per client before any password is checked: a few at once, then one per
 * doubling backoff, so parallel guesses gain nothing and a correct guess waits its turn like a
 * wrong one. A success clears the client's record. Memory is bounded: at most trackedClients
 * records; when every one is recent, new clients share one overflow bucket instead of evicting
 * (which would let a guesser reset its own record by flooding other addresses).
 */
@ApplicationScoped
public class LoginThrottle {

    static final String OVERFLOW = "(others)";

    private record Entry(int attempts, long lastAttempt, long blockedUntil) {
    }

    private final MatviewsConfig.Auth.Login config;
    private final LongSupplier nanoClock;
    /** Access order: the eldest entry is the one forgotten first. */
    private final LinkedHashMap<String, Entry> clients = new LinkedHashMap<>(64, 0.75f, true);

    @Inject
    public LoginThrottle(MatviewsConfig config) {
        this(config.auth().login(), System::nanoTime);
    }

    LoginThrottle(MatviewsConfig.Auth.Login config, LongSupplier nanoClock) {
        this.config = config;
        this.nanoClock = nanoClock;
    }

    /** Empty if the attempt may go ahead (and is counted); else how long the client must wait. */
    public synchronized Optional<Duration> admit(String clientAddress) {
        long now = nanoClock.getAsLong();
        String key = bucket(key(clientAddress), now);
        Entry entry = clients.get(key);
        if (entry != null && now - entry.lastAttempt() > config.forgetAfter().toNanos()) {
            entry = null;
        }
        if (entry != null && now < entry.blockedUntil()) {
            return Optional.of(Duration.ofNanos(entry.blockedUntil() - now));
        }
        int attempts = entry == null ? 1 : entry.attempts() + 1;
        int beyond = attempts - config.freeAttempts();
        long blockedUntil = beyond <= 0 ? now : now + backoff(beyond).toNanos();
        clients.put(key, new Entry(attempts, now, blockedUntil));
        return Optional.empty();
    }

    /** A correct password: this client starts afresh. */
    public synchronized void succeeded(String clientAddress) {
        clients.remove(key(clientAddress));
    }

    synchronized int tracked() {
        return clients.size();
    }

    private Duration backoff(int beyondFree) {
        Duration max = config.maxBackoff();
        return beyondFree > 30 ? max : Duration.ofSeconds(1L << (beyondFree - 1)).compareTo(max) > 0 ? max
                : Duration.ofSeconds(1L << (beyondFree - 1));
    }

    /** The client's own record if it has or can get one, else the shared overflow bucket. */
    private String bucket(String key, long now) {
        if (clients.containsKey(key) || clients.size() < config.trackedClients()) {
            return key;
        }
        long forget = config.forgetAfter().toNanos();
        for (Iterator<Map.Entry<String, Entry>> eldest = clients.entrySet().iterator(); eldest.hasNext(); ) {
            Map.Entry<String, Entry> e = eldest.next();
            if (now - e.getValue().lastAttempt() <= forget || clients.size() < config.trackedClients()) {
                break;
            }
            eldest.remove();
        }
        return clients.size() < config.trackedClients() ? key : OVERFLOW;
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
