package dev.matviews.schedule;

import dev.matviews.support.ThroughPgBouncer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.condition.EnabledIf;

import java.util.List;

/**
 * The scheduler tests again (three replicas firing exactly once, claims, leases, LISTEN wake-ups),
 * through a real PgBouncer in session mode.
 */
@QuarkusTest
@TestProfile(SchedulerThroughPgBouncerTest.Profile.class)
@EnabledIf(value = "dev.matviews.support.PgBouncer#usable", disabledReason = dev.matviews.support.PgBouncer.MISSING)
class SchedulerThroughPgBouncerTest extends SchedulerTest {

    public static class Profile extends SchedulerTest.NoBuiltInScheduler {
        @Override
        public List<TestResourceEntry> testResources() {
            return new ThroughPgBouncer.SessionMode().testResources();
        }
    }
}
