package dev.matviews.registry;

import dev.matviews.problem.InvalidInputException;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** PostgreSQL identifiers as this service accepts them, and their quoting for SQL. */
public final class Identifiers {

    /** NAMEDATALEN - 1: PostgreSQL would silently truncate anything longer. */
    public static final int MAX_BYTES = 63;
    /** Plain identifiers only: ASCII, so characters and bytes count the same. */
    public static final String PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";
    private static final Pattern VALID = Pattern.compile(PATTERN);

    private Identifiers() {
    }

    public static boolean isValid(String name) {
        return name != null
                && name.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES
                && VALID.matcher(name).matches();
    }

    /** @param field the request field, named in the error */
    public static String require(String field, String name) {
        if (name == null || name.isEmpty()) {
            throw new InvalidInputException(field + " is required");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw new InvalidInputException(field + " must be at most " + MAX_BYTES + " bytes long");
        }
        if (!VALID.matcher(name).matches()) {
            throw new InvalidInputException(field + " must match " + PATTERN + ", got " + InvalidInputException.quoted(name));
        }
        return name;
    }

    /** Always quoted, so reserved words and mixed case need no special list. */
    public static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    public static String qualified(String schema, String name) {
        return quote(schema) + "." + quote(name);
    }
}
