package dev.matviews.registry;

import dev.matviews.problem.InvalidInputException;

import java.util.List;

/**
 * Which registrations a list page shows: all of them when every part is null.
 *
 * @param schema only views in this schema
 * @param view   only the view of this name (with schema: one registration at most)
 * @param status only views whose latest refresh is this: success, error, never (not refreshed
 *               yet) or running (a refresh runs now)
 * @param stale  only stale (true) or fresh (false) views
 */
public record RegistrationFilter(String schema, String view, String status, Boolean stale, Boolean suspended) {

    public static final List<String> STATUSES = List.of("success", "error", "never", "running");
    public static final RegistrationFilter NONE = new RegistrationFilter(null, null, null, null, null);

    public RegistrationFilter(String schema, String view, String status, Boolean stale) {
        this(schema, view, status, stale, null);
    }

    public RegistrationFilter {
        if (status != null && !STATUSES.contains(status)) {
            throw new InvalidInputException("status must be one of " + String.join(", ", STATUSES) + ", got "
                    + InvalidInputException.quoted(status));
        }
    }
}
