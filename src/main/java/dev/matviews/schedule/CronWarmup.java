package dev.matviews.schedule;

import dev.matviews.db.Warmup;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;

/**
 * Evaluates cron expressions at start-up until the JIT has compiled the evaluator: the first due
 * minute after a start plans every due schedule (1,000 at once in bench/burst.sh) and would run it
 * interpreted.
 */
@ApplicationScoped
public class CronWarmup implements Warmup {

    private static final String[] EXPRESSIONS = {"0 * * * * *", "*/5 * * * *", "0 0 3 * * MON-FRI", "@hourly"};
    private static final int ROUNDS = 500;

    @Override
    public void warmCode() {
        Instant now = Instant.now();
        for (int i = 0; i < ROUNDS; i++) {
            for (String expr : EXPRESSIONS) {
                CronSchedule.parse(expr, i % 2 == 0 ? "UTC" : "Europe/Paris").nextAfter(now, now);
            }
        }
    }
}
