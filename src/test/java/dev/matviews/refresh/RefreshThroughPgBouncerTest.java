package dev.matviews.refresh;

import dev.matviews.support.ThroughPgBouncer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every refresh test again, with the service reaching PostgreSQL only through a real PgBouncer in
 * session mode with its default settings (Debian's package): it refused the Vert.x client's
 * start-up parameters, so the service never became ready.
 */
@QuarkusTest
@TestProfile(ThroughPgBouncer.SessionMode.class)
@EnabledIf(value = "dev.matviews.support.PgBouncer#usable", disabledReason = dev.matviews.support.PgBouncer.MISSING)
class RefreshThroughPgBouncerTest extends RefreshTest {

    @Inject
    Pool pool;

    @Test
    void settingsAPoolerRefusesAtStartUpAreSetOnEveryPooledConnection() {
        for (int i = 0; i < 3; i++) {
            Row row = pool.query("SELECT current_setting('plan_cache_mode'), current_setting('IntervalStyle'),"
                            + " current_setting('extra_float_digits'), current_setting('application_name')")
                    .execute().await().atMost(Duration.ofSeconds(10)).iterator().next();
            assertEquals("force_generic_plan", row.getString(0));
            assertEquals("postgres", row.getString(1));
            assertEquals("2", row.getString(2));
        }
    }
}
