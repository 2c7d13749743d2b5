package dev.matviews.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import dev.matviews.problem.InvalidInputException;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When a schedule is due: standard 5-field cron, an optional leading seconds field, the usual
 * macros, or {@code @every <duration>}. Cron expressions are evaluated by cron-utils in the
 * schedule's IANA time zone, so daylight-saving changes follow that zone's rules.
 */
public final class CronSchedule {

    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final CronParser WITH_SECONDS = new CronParser(secondsDefinition());
    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");
    private static final Pattern EVERY = Pattern.compile("@every\\s+(.+)");
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Duration MIN_EVERY = Duration.ofSeconds(1);
    /** A longer interval is a mistake, and far-future due times (year 10240) broke every reader of the schedule. */
    static final Duration MAX_EVERY = Duration.ofDays(366);
    /** More digits than this cannot be within MAX_EVERY in any unit (366 d = 31,622,400,000 ms). */
    private static final int MAX_DIGITS = 11;

    private final String expression;
    private final ZoneId zone;
    private final ExecutionTime execution;
    private final Duration every;

    private CronSchedule(String expression, ZoneId zone, ExecutionTime execution, Duration every) {
        this.expression = expression;
        this.zone = zone;
        this.execution = execution;
        this.every = every;
    }

    /** Parses and validates; every problem is an {@link InvalidInputException} naming the field. */
    public static CronSchedule parse(String cronExpr, String timezone) {
        if (cronExpr == null || cronExpr.isBlank()) {
            throw new InvalidInputException("cronExpr is required");
        }
        ZoneId zone = zone(timezone);
        String expr = cronExpr.trim();
        Matcher every = EVERY.matcher(expr);
        if (every.matches()) {
            return new CronSchedule(expr, zone, null, duration(every.group(1).trim()));
        }
        String cron = MACROS.getOrDefault(expr.toLowerCase(Locale.ROOT), expr);
        if (cron.startsWith("@")) {
            throw new InvalidInputException("cronExpr: unknown macro '" + expr + "'; use @yearly, @monthly, @weekly,"
                    + " @daily, @hourly or @every <duration>");
        }
        int fields = cron.split("\\s+").length;
        CronParser parser = switch (fields) {
            case 5 -> UNIX;
            case 6 -> WITH_SECONDS;
            default -> throw new InvalidInputException("cronExpr must have 5 fields (minute hour day-of-month month"
                    + " day-of-week) or 6 with a leading seconds field, got " + fields);
        };
        ExecutionTime execution;
        try {
            Cron parsed = parser.parse(cron);
            parsed.validate();
            execution = ExecutionTime.forCron(parsed);
        } catch (RuntimeException e) {
            throw new InvalidInputException("cronExpr '" + expr + "' is not valid: " + e.getMessage());
        }
        CronSchedule schedule = new CronSchedule(expr, zone, execution, null);
        // An accepted schedule must have a due time: "0 0 31 2 *" (31 February) has none.
        Optional<Instant> next;
        try {
            next = schedule.nextAfter(Instant.now(), Instant.now());
        } catch (RuntimeException e) {
            next = Optional.empty();
        }
        if (next.isEmpty()) {
            throw new InvalidInputException("cronExpr '" + expr + "' never fires (no date matches it)");
        }
        return schedule;
    }

    public static ZoneId zone(String timezone) {
        String tz = timezone == null || timezone.isBlank() ? "UTC" : timezone.trim();
        try {
            return ZoneId.of(tz);
        } catch (DateTimeException e) {
            throw new InvalidInputException("timezone must be an IANA time zone such as Europe/Berlin, got " + InvalidInputException.quoted(tz));
        }
    }

    /**
     * The first due time strictly after {@code after}. For {@code @every}, due times are
     * {@code anchor + k × interval}, so a schedule keeps its rhythm whatever the delays.
     */
    public Optional<Instant> nextAfter(Instant after, Instant anchor) {
        if (every != null) {
            long step = every.toMillis();
            long elapsed = after.toEpochMilli() - anchor.toEpochMilli();
            long k = elapsed < 0 ? 0 : elapsed / step + 1;
            return Optional.of(anchor.plusMillis(k * step));
        }
        // cron-utils keeps the sub-second part of its input; due times are whole seconds.
        return execution.nextExecution(ZonedDateTime.ofInstant(after, zone).truncatedTo(ChronoUnit.SECONDS))
                .map(ZonedDateTime::toInstant);
    }

    /** The next {@code count} due times after {@code from}, as a schedule created at {@code from} would fire. */
    public List<Instant> next(int count, Instant from) {
        List<Instant> due = new ArrayList<>(count);
        Instant after = from;
        while (due.size() < count) {
            Optional<Instant> next = nextAfter(after, from);
            if (next.isEmpty()) {
                break;
            }
            due.add(next.get());
            after = next.get();
        }
        return due;
    }

    public String expression() {
        return expression;
    }

    public ZoneId zone() {
        return zone;
    }

    static Duration duration(String text) {
        Matcher part = DURATION_PART.matcher(text);
        Duration total = Duration.ZERO;
        int end = 0;
        boolean tooLong = false;
        while (part.find() && part.start() == end) {
            String digits = part.group(1).replaceFirst("^0+(?=.)", "");
            end = part.end();
            if (digits.length() > MAX_DIGITS || tooLong) {
                tooLong = true;
                continue;
            }
            long n = Long.parseLong(digits);
            total = total.plus(switch (part.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            });
            tooLong = total.compareTo(MAX_EVERY) > 0;
        }
        if (end != text.length() || end == 0) {
            throw new InvalidInputException("cronExpr: @every needs a duration such as 30s, 5m or 1h30m, got "
                    + InvalidInputException.quoted(text));
        }
        if (total.compareTo(MIN_EVERY) < 0 && !tooLong) {
            throw new InvalidInputException("cronExpr: @every must be at least 1s");
        }
        if (tooLong) {
            throw new InvalidInputException("cronExpr: @every must be at most 366d");
        }
        return total;
    }

    /** Seconds, then the five Unix fields with Unix semantics (Sunday is 0 or 7). */
    private static CronDefinition secondsDefinition() {
        return CronDefinitionBuilder.defineCron()
                .withSeconds().and()
                .withMinutes().and()
                .withHours().and()
                .withDayOfMonth().supportsL().supportsW().supportsQuestionMark().and()
                .withMonth().and()
                .withDayOfWeek().withValidRange(0, 7).withMondayDoWValue(1).withIntMapping(7, 0)
                .supportsHash().supportsL().supportsQuestionMark().and()
                .instance();
    }
}
