package dev.matviews.registry;

import dev.matviews.problem.InvalidInputException;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How fresh a registration's view must be: at most {@code seconds} behind its sources, or
 * {@code downstream} (as fresh as a registered view that reads it and has a target needs).
 * Written as an ISO-8601 duration ({@code PT5M}), a shorthand ({@code 5m}, {@code 1h30m},
 * {@code 45s}, {@code 2d}) or {@code downstream}; shown as the ISO-8601 form.
 */
public record TargetLag(Integer seconds, boolean downstream) {

    public static final String DOWNSTREAM = "downstream";
    public static final int MIN_SECONDS = 1;
    /** 366 days, as the registry's CHECK constraint says. */
    public static final int MAX_SECONDS = 31_622_400;
    /** What a request's targetLag means, for the OpenAPI document. */
    public static final String DESCRIPTION = "How fresh the view must be: an ISO-8601 duration (PT5M) or a shorthand"
            + " (5m, 90s, 1h30m) its lag is kept under, or downstream (refreshed only when a registered view that reads"
            + " it and has a target needs it); null: no target";
    public static final String FORMAT = "an ISO-8601 duration such as PT5M, a shorthand such as 5m, 90s or 1h30m,"
            + " or downstream";

    private static final Pattern SHORTHAND = Pattern.compile("(?:(\\d{1,6})d)?(?:(\\d{1,7})h)?(?:(\\d{1,9})m)?(?:(\\d{1,10})s)?");

    public static TargetLag ofSeconds(int seconds) {
        return new TargetLag(seconds, false);
    }

    /** The stored form (either column may be null/false) as a target, or null for none. */
    public static TargetLag fromColumns(Integer seconds, Boolean downstream) {
        if (Boolean.TRUE.equals(downstream)) {
            return new TargetLag(null, true);
        }
        return seconds == null ? null : ofSeconds(seconds);
    }

    /** Parses what a client wrote; {@code field} names it in the refusal. */
    public static TargetLag parse(String field, String text) {
        if (text == null) {
            return null;
        }
        String value = text.trim();
        if (value.equalsIgnoreCase(DOWNSTREAM)) {
            return new TargetLag(null, true);
        }
        Duration duration = null;
        if (value.toUpperCase(Locale.ROOT).startsWith("P")) {
            try {
                duration = Duration.parse(value.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                duration = null;
            }
        } else {
            Matcher m = SHORTHAND.matcher(value.toLowerCase(Locale.ROOT));
            if (!value.isEmpty() && m.matches()) {
                try {
                    duration = Duration.ofDays(part(m, 1)).plusHours(part(m, 2)).plusMinutes(part(m, 3))
                            .plusSeconds(part(m, 4));
                } catch (ArithmeticException e) {
                    duration = null;
                }
            }
        }
        if (duration == null) {
            throw new InvalidInputException(field + " must be " + FORMAT + ", got " + InvalidInputException.quoted(text));
        }
        if (duration.getNano() != 0 || duration.getSeconds() < MIN_SECONDS || duration.getSeconds() > MAX_SECONDS) {
            throw new InvalidInputException(field + " must be whole seconds from " + MIN_SECONDS + " s to 366 days, got "
                    + InvalidInputException.quoted(text));
        }
        return ofSeconds((int) duration.getSeconds());
    }

    private static long part(Matcher m, int group) {
        String digits = m.group(group);
        return digits == null ? 0 : Long.parseLong(digits);
    }

    /** The normalized form the API shows: {@code PT5M}, {@code PT1H30M}, or {@code downstream}. */
    public String display() {
        return downstream ? DOWNSTREAM : Duration.ofSeconds(seconds).toString();
    }
}
