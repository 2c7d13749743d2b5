package dev.matviews.refresh;

import dev.matviews.support.ThroughPgBouncer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.condition.EnabledIf;

/** The lock-leak tests again, through a real PgBouncer in session mode (pg_locks read past it, on the server). */
@QuarkusTest
@TestProfile(ThroughPgBouncer.SessionMode.class)
@EnabledIf(value = "dev.matviews.support.PgBouncer#usable", disabledReason = dev.matviews.support.PgBouncer.MISSING)
class LockLeakThroughPgBouncerTest extends LockLeakTest {
}
