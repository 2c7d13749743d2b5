package dev.matviews.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.Setting;
import dev.matviews.schedule.ScheduleRequest;
import io.vertx.core.json.JsonObject;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.UUID;

/** Parsing of request parts that Jackson's binding cannot express. */
final class Requests {

    private Requests() {
    }

    static UUID uuid(String name, String value) {
        try {
            if (value != null && value.length() == 36) {
                return UUID.fromString(value);
            }
        } catch (IllegalArgumentException e) {
            // answered below
        }
        throw new InvalidInputException(name + " must be a UUID, got " + InvalidInputException.quoted(value == null ? "" : value));
    }

    /** A whole-number query parameter; absent is null. JAX-RS would answer a 404 for {@code ?limit=abc}. */
    static Integer whole(String name, String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim();
        if (v.matches("[+-]?\\d{1,9}")) {
            return Integer.parseInt(v);
        }
        throw new InvalidInputException(name + " must be a whole number" + (v.matches("[+-]?\\d+") ? " below one billion" : "")
                + ", got " + InvalidInputException.quoted(value));
    }

    /** An instant with its offset (2026-12-04T18:00:00Z); absent is null. */
    static OffsetDateTime instant(String name, String value) {
        if (value == null) {
            return null;
        }
        try {
            if (value.length() <= 64) {
                return OffsetDateTime.parse(value.trim());
            }
        } catch (DateTimeParseException e) {
            // answered below
        }
        throw new InvalidInputException(name + " must be an ISO-8601 instant with its offset, such as"
                + " 2026-12-04T18:00:00Z, got " + InvalidInputException.quoted(value));
    }

    /** A query parameter of at most {@code max} characters (absent is fine). */
    static void maxLength(String name, String value, int max) {
        if (value != null && value.length() > max) {
            throw new InvalidInputException(name + " must be at most " + max + " characters, got " + value.length());
        }
    }

    /** ?cascade=downstream|upstream of a refresh. */
    static dev.matviews.cascade.CascadePlan.Direction cascadeDirection(String value) {
        return switch (value) {
            case "downstream" -> dev.matviews.cascade.CascadePlan.Direction.DOWNSTREAM;
            case "upstream" -> dev.matviews.cascade.CascadePlan.Direction.UPSTREAM;
            default -> throw new InvalidInputException("cascade must be downstream or upstream, got "
                    + InvalidInputException.quoted(value));
        };
    }

    /** The format of a graph: json (absent or empty too) or dot. */
    static boolean graphFormatIsDot(String format) {
        if (format == null || format.isEmpty() || format.equals("json")) {
            return false;
        }
        if (format.equals("dot")) {
            return true;
        }
        throw new InvalidInputException("format must be json or dot, got " + InvalidInputException.quoted(format));
    }

    /** A true/false query parameter; absent or empty is false. */
    static boolean flag(String name, String value) {
        return value != null && !value.isEmpty() && trueOrFalse(name, value);
    }

    /** A true/false query parameter that may be absent (null). */
    static Boolean trueOrFalse(String name, String value) {
        if (value == null || value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return value == null ? null : value.equalsIgnoreCase("true");
        }
        throw new InvalidInputException(name + " must be true or false, got " + InvalidInputException.quoted(value));
    }

    static JsonNode object(JsonNode body) {
        if (body == null || body.isNull() || body.isMissingNode()) {
            throw new InvalidInputException("request body is required");
        }
        if (!body.isObject()) {
            throw new InvalidInputException("request body must be a JSON object");
        }
        return body;
    }

    static Setting<String> text(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null) {
            return Setting.absent();
        }
        if (node.isNull()) {
            return Setting.of(null);
        }
        if (!node.isTextual()) {
            throw new InvalidInputException("request body field '" + field + "' must be a string");
        }
        if (node.textValue().indexOf('\0') >= 0) {
            // PostgreSQL cannot store it in text.
            throw new InvalidInputException("request body field '" + field + "' must not contain a NUL character");
        }
        return Setting.of(node.textValue());
    }

    static Setting<Integer> integer(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null) {
            return Setting.absent();
        }
        if (node.isNull()) {
            return Setting.of(null);
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new InvalidInputException("request body field '" + field + "' must be a whole number");
        }
        return Setting.of(node.intValue());
    }

    /** The fields of a schedule request; absent and null both mean "not given". */
    static ScheduleRequest schedule(JsonNode request) {
        JsonNode body = object(request);
        JsonNode payload = body.get("payload");
        if (payload != null && !payload.isNull() && !payload.isObject()) {
            throw new InvalidInputException("payload must be a JSON object");
        }
        return new ScheduleRequest(text(body, "name").value(), text(body, "jobType").value(),
                payload == null || payload.isNull() ? null : new JsonObject(payload.toString()).getMap(),
                text(body, "cronExpr").value(), text(body, "timezone").value(), bool(body, "enabled"),
                integer(body, "maxAttempts").value(), integer(body, "maxRuntimeMs").value(),
                text(body, "missedRunPolicy").value());
    }

    /** A boolean field that may be absent; null is refused by the caller where it means nothing. */
    static Setting<Boolean> booleanSetting(JsonNode body, String field) {
        JsonNode node = body.get(field);
        return node == null ? Setting.absent() : Setting.of(bool(body, field));
    }

    static Boolean bool(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            throw new InvalidInputException("request body field '" + field + "' must be true or false");
        }
        return node.booleanValue();
    }

    /** RFC 7240: Prefer: respond-async, possibly among other preferences. */
    static boolean prefersAsync(String prefer) {
        if (prefer == null) {
            return false;
        }
        for (String preference : prefer.split(",")) {
            if (preference.trim().toLowerCase().startsWith("respond-async")) {
                return true;
            }
        }
        return false;
    }
}
