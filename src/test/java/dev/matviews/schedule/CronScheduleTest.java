package dev.matviews.schedule;

import dev.matviews.problem.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CronScheduleTest {

    private static Instant next(String cron, String tz, String after) {
        return CronSchedule.parse(cron, tz).nextAfter(Instant.parse(after), Instant.parse(after)).orElseThrow();
    }

    @Test
    void fiveFieldsAreEvaluatedInTheScheduleTimeZone() {
        assertEquals(Instant.parse("2026-11-24T02:30:00Z"), next("30 3 * * *", "Europe/Berlin", "2026-11-23T12:00:00Z"));
        assertEquals(Instant.parse("2026-11-23T12:15:00Z"), next("*/15 * * * *", "UTC", "2026-11-23T12:00:00Z"));
    }

    @Test
    void dueTimesAreWholeSecondsWhateverTheStartingInstant() {
        assertEquals(Instant.parse("2026-11-23T12:00:01Z"), next("* * * * * *", "UTC", "2026-11-23T12:00:00.300Z"));
        assertEquals(Instant.parse("2026-11-23T12:01:00Z"), next("* * * * *", "UTC", "2026-11-23T12:00:59.999Z"));
    }

    @Test
    void aLeadingSecondsFieldIsAccepted() {
        assertEquals(Instant.parse("2026-11-23T12:00:10Z"), next("*/10 * * * * *", "UTC", "2026-11-23T12:00:00Z"));
    }

    @Test
    void macrosAreTheUsualOnes() {
        assertEquals(Instant.parse("2026-11-23T13:00:00Z"), next("@hourly", "UTC", "2026-11-23T12:00:00Z"));
        assertEquals(Instant.parse("2026-11-24T00:00:00Z"), next("@daily", "UTC", "2026-11-23T12:00:00Z"));
        assertEquals(Instant.parse("2026-11-29T00:00:00Z"), next("@weekly", "UTC", "2026-11-23T12:00:00Z"));
        assertEquals(Instant.parse("2026-12-01T00:00:00Z"), next("@monthly", "UTC", "2026-11-23T12:00:00Z"));
        assertEquals(Instant.parse("2027-01-01T00:00:00Z"), next("@yearly", "UTC", "2026-11-23T12:00:00Z"));
    }

    @Test
    void everyKeepsItsRhythmFromTheAnchor() {
        CronSchedule every = CronSchedule.parse("@every 1m30s", "UTC");
        Instant anchor = Instant.parse("2026-11-23T12:00:00Z");
        assertEquals(Instant.parse("2026-11-23T12:01:30Z"), every.nextAfter(anchor, anchor).orElseThrow());
        assertEquals(Instant.parse("2026-11-23T12:04:30Z"),
                every.nextAfter(Instant.parse("2026-11-23T12:03:31Z"), anchor).orElseThrow());
    }

    @Test
    void springForwardSkipsTheMissingHourAndFallBackRunsOnce() {
        // Europe/Berlin: 2026-03-29 02:00 -> 03:00; 2026-10-25 03:00 -> 02:00.
        assertEquals(Instant.parse("2026-03-30T00:30:00Z"), next("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z"));
        Instant firstFallBack = next("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z");
        assertEquals(Instant.parse("2026-10-25T00:30:00Z"), firstFallBack);
        assertEquals(Instant.parse("2026-10-26T01:30:00Z"), next("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z"));
        // New York's 9:00 stays 9:00 local across the change.
        assertEquals(Instant.parse("2026-11-02T14:00:00Z"), next("0 9 * * *", "America/New_York", "2026-11-01T14:00:00Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "* * * *", "61 * * * *", "* * * * * * *", "@sometimes", "@every", "@every 0s",
            "@every 5 minutes", "0 0 31 2 * x", "@every -5s", "@every 500ms", "0 0 * * * * 2030"})
    void badExpressionsAreRejected(String cron) {
        assertThrows(InvalidInputException.class, () -> CronSchedule.parse(cron, "UTC"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"@every 3000000d", "@every 99999999999999999999s", "@every 9223372036854775807d",
            "@every 9223372036854775807ms", "@every 367d", "@every 366d1s", "@every 8785h", "@every 200d200d"})
    void everyIsAtMostAYear(String cron) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CronSchedule.parse(cron, "UTC"));
        assertEquals("cronExpr: @every must be at most 366d", e.getMessage());
    }

    @Test
    void everyFromASecondToAYearIsAccepted() {
        Instant anchor = Instant.parse("2026-11-23T12:00:00Z");
        assertEquals(Instant.parse("2027-11-24T12:00:00Z"),
                CronSchedule.parse("@every 366d", "UTC").nextAfter(anchor, anchor).orElseThrow());
        assertEquals(Instant.parse("2026-11-23T12:00:01Z"),
                CronSchedule.parse("@every 1s", "UTC").nextAfter(anchor, anchor).orElseThrow());
        assertEquals(Instant.parse("2026-11-23T12:00:01.500Z"),
                CronSchedule.parse("@every 1s500ms", "UTC").nextAfter(anchor, anchor).orElseThrow());
        assertEquals(Instant.parse("2027-11-24T12:00:00Z"),
                CronSchedule.parse("@every 0000000000000000366d", "UTC").nextAfter(anchor, anchor).orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0 0 31 2 *", "0 0 30 2 *", "0 0 31 4 *", "0 0 0 31 11 *"})
    void expressionsThatNeverFireAreRejected(String cron) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CronSchedule.parse(cron, "UTC"));
        assertEquals("cronExpr '" + cron + "' never fires (no date matches it)", e.getMessage());
    }

    @Test
    void aLeapDayFiresEveryFourYears() {
        assertEquals(Instant.parse("2028-02-29T00:00:00Z"), next("0 0 29 2 *", "UTC", "2026-11-23T12:00:00Z"));
    }

    @Test
    void badTimeZonesAreRejected() {
        assertThrows(InvalidInputException.class, () -> CronSchedule.parse("@daily", "Mars/Olympus"));
        assertEquals("UTC", CronSchedule.parse("@daily", null).zone().getId());
    }
}
