package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The login throttle's rules, on a clock the test moves. */
class LoginThrottleTest {

    private static final int TRACKED = 100;
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LoginThrottle throttle = new LoginThrottle(new MatviewsConfig.Auth.Login() {
        public int freeAttempts() {
            return 5;
        }

        public Duration maxBackoff() {
            return Duration.ofMinutes(15);
        }

        public Duration forgetAfter() {
            return Duration.ofMinutes(15);
        }

        public int trackedClients() {
            return TRACKED;
        }
    }, now::get);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    private int admitted(String client, int attempts) {
        int admitted = 0;
        for (int i = 0; i < attempts; i++) {
            admitted += throttle.admit(client).isEmpty() ? 1 : 0;
        }
        return admitted;
    }

    @Test
    void parallelGuessesGetTheFreeAttemptsAndOneMoreThenWaitADoublingBackoff() {
        assertEquals(6, admitted("10.0.0.1", 50), "five free, and the sixth starts a 1 s wait");
        Optional<Duration> wait = throttle.admit("10.0.0.1");
        assertTrue(wait.isPresent() && wait.get().compareTo(Duration.ofSeconds(1)) <= 0, "waits " + wait);
        advance(Duration.ofSeconds(1));
        assertEquals(1, admitted("10.0.0.1", 50));
        advance(Duration.ofSeconds(1));
        assertEquals(0, admitted("10.0.0.1", 50), "now 2 s");
        advance(Duration.ofSeconds(1));
        assertEquals(1, admitted("10.0.0.1", 50));
        for (int i = 0; i < 20; i++) {
            advance(Duration.ofMinutes(14));
            admitted("10.0.0.1", 1);
        }
        assertTrue(throttle.admit("10.0.0.1").orElseThrow().compareTo(Duration.ofMinutes(15)) <= 0, "capped at 15 min");
    }

    @Test
    void anotherClientIsNotHeldUpAndASuccessClearsTheRecord() {
        admitted("10.0.0.1", 50);
        assertEquals(1, admitted("10.0.0.2", 1));
        throttle.succeeded("10.0.0.2");
        assertEquals(5, admitted("10.0.0.2", 5));
    }

    @Test
    void aQuietClientIsForgotten() {
        admitted("10.0.0.1", 50);
        advance(Duration.ofMinutes(16));
        assertEquals(6, admitted("10.0.0.1", 50));
    }

    @Test
    void memoryIsBoundedAndAFloodOfAddressesDoesNotResetAGuesser() {
        admitted("10.0.0.1", 50);
        for (int i = 0; i < 20_000; i++) {
            throttle.admit("192.168." + (i / 256) + "." + (i % 256));
        }
        assertTrue(throttle.tracked() <= TRACKED + 1, "tracked " + throttle.tracked());
        assertTrue(throttle.admit("10.0.0.1").isPresent(), "the guesser is still held up");
        // The flood itself shares one bucket, which is held up as one client.
        assertTrue(throttle.admit("172.16.0.1").isPresent());
        advance(Duration.ofMinutes(16));
        assertTrue(throttle.admit("172.16.0.1").isEmpty(), "old records make room again");
    }

    @Test
    void ipv6ClientsAreCountedPerSlash64() {
        assertEquals(6, admitted("2001:db8:1:2::1", 3) + admitted("2001:db8:1:2:ffff::9", 47));
        assertEquals("2001:db8:1:2::/64", LoginThrottle.key("2001:0db8:0001:0002:0000:0000:0000:0001"));
        assertEquals(1, admitted("2001:db8:1:3::1", 1));
    }
}
