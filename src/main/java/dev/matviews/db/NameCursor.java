package dev.matviews.db;

import dev.matviews.problem.InvalidInputException;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The cursor of a list in (schema, name) order: opaque to clients, it is the last item's schema
 * and name (identifiers never hold NUL). The first page starts after ('', '').
 */
public record NameCursor(String schema, String name) {

    public static final NameCursor START = new NameCursor("", "");

    public String encode() {
        String raw = schema + '\0' + name;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor a client sent back; null or empty is the start. */
    public static NameCursor decode(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return START;
        }
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            String[] parts = raw.split("\0", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty() || raw.indexOf('\uFFFD') >= 0) {
                throw new IllegalArgumentException("not a name pair");
            }
            return new NameCursor(parts[0], parts[1]);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("cursor is not one this service gave out");
        }
    }
}
