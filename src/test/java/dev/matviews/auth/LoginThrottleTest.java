package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The login throttle's rules, on its real table and function, at instants the test chooses. Each
 * throttle instance stands for a replica, or for the service after a restart: they share the budget.
 */
@QuarkusTest
class LoginThrottleTest {

    private static final int TRACKED = 100;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Inject
    Pool pool;
    @Inject
    LoginAttemptRepository attempts;

    private Instant now = Instant.parse("2030-01-01T00:00:00Z");
    private String net;

    @BeforeEach
    void ownAddresses() {
        // addresses of this test's own, so that other tests' records do not count
        net = "t" + UUID.randomUUID().toString().substring(0, 8) + ":";
        TestDb.run("DELETE FROM _matviews_login_attempts");
    }

    @AfterEach
    void forgetThem() {
        TestDb.run("DELETE FROM _matviews_login_attempts");
    }

    private LoginThrottle replica() {
        return new LoginThrottle(pool, attempts, new MatviewsConfig.Auth.Login() {
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
        });
    }

    private void advance(Duration d) {
        now = now.plus(d);
    }

    private Optional<Duration> admit(LoginThrottle on, String client) {
        return on.admit(net + client, now).await().atMost(WAIT);
    }

    private int admitted(LoginThrottle on, String client, int tries) {
        int admitted = 0;
        for (int i = 0; i < tries; i++) {
            admitted += admit(on, client).isEmpty() ? 1 : 0;
        }
        return admitted;
    }

    @Test
    void parallelGuessesGetTheFreeAttemptsAndOneMoreThenWaitADoublingBackoff() {
        LoginThrottle a = replica();
        assertEquals(6, admitted(a, "1", 50), "five free, and the sixth starts a 1 s wait");
        Optional<Duration> wait = admit(a, "1");
        assertTrue(wait.isPresent() && wait.get().compareTo(Duration.ofSeconds(1)) <= 0, "waits " + wait);
        advance(Duration.ofSeconds(1));
        assertEquals(1, admitted(a, "1", 50));
        advance(Duration.ofSeconds(1));
        assertEquals(0, admitted(a, "1", 50), "now 2 s");
        advance(Duration.ofSeconds(1));
        assertEquals(1, admitted(a, "1", 50));
        for (int i = 0; i < 20; i++) {
            advance(Duration.ofMinutes(14));
            admitted(a, "1", 1);
        }
        assertTrue(admit(a, "1").orElseThrow().compareTo(Duration.ofMinutes(15)) <= 0, "capped at 15 min");
    }

    @Test
    void theBudgetIsSharedByEveryReplicaAndSurvivesARestart() {
        LoginThrottle a = replica();
        LoginThrottle b = replica();
        LoginThrottle c = replica();
        // a guesser spreading its attempts over three replicas gets what it would get from one
        int admitted = 0;
        for (int i = 0; i < 30; i++) {
            admitted += admit(i % 3 == 0 ? a : i % 3 == 1 ? b : c, "1").isEmpty() ? 1 : 0;
        }
        assertEquals(6, admitted);
        // a replica started afresh (a restart, a new pod) finds it held up as well
        assertTrue(admit(replica(), "1").isPresent());
    }

    @Test
    void anotherClientIsNotHeldUpAndASuccessClearsTheRecord() {
        LoginThrottle a = replica();
        admitted(a, "1", 50);
        assertEquals(1, admitted(a, "2", 1));
        replica().succeeded(net + "2").await().atMost(WAIT);
        assertEquals(5, admitted(a, "2", 5));
    }

    @Test
    void aClientDoesNotGetItsFreeAttemptsBackEachPeriodOnlyOneAtATime() {
        LoginThrottle a = replica();
        assertEquals(6, admitted(a, "1", 50));
        advance(Duration.ofMinutes(16));
        // one attempt forgotten per quiet period: one more now (not five), and then a wait
        assertEquals(1, admitted(a, "1", 50));
        // quiet for long enough to forget every attempt, it starts afresh
        advance(Duration.ofMinutes(15 * 7));
        assertEquals(6, admitted(a, "1", 50));
    }

    @Test
    void theTableIsBoundedAFloodOfAddressesResetsNoGuesserAndLocksNoNewClientOut() {
        LoginThrottle a = replica();
        admitted(a, "guesser", 50);
        for (int i = 0; i < 3 * TRACKED; i++) {
            advance(Duration.ofMillis(10));
            admit(a, "flood-" + i);
        }
        long tracked = a.tracked().await().atMost(WAIT);
        assertTrue(tracked <= TRACKED, "tracked " + tracked);
        // its record stayed: no free attempts again, at most the one its expired backoff allows
        assertTrue(admitted(a, "guesser", 50) <= 1, "the guesser's record survived the flood");
        // a client arriving after the flood has its own free attempts: the flood locks nobody out
        assertEquals(5, admitted(a, "newcomer", 5));
    }

    @Test
    void ipv6ClientsAreCountedPerSlash64() {
        LoginThrottle a = replica();
        net = "";
        assertEquals(6, admitted(a, "2001:db8:1:2::1", 3) + admitted(a, "2001:db8:1:2:ffff::9", 47));
        assertEquals("2001:db8:1:2::/64", LoginThrottle.key("2001:0db8:0001:0002:0000:0000:0000:0001"));
        assertEquals(1, admitted(a, "2001:db8:1:3::1", 1));
    }
}
