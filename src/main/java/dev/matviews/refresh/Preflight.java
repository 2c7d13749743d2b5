package dev.matviews.refresh;

import dev.matviews.registry.Identifiers;
import dev.matviews.registry.Registration;
import dev.matviews.runs.Run;

/** What one round trip learned about a registration, its view and its lock before a refresh. */
sealed interface Preflight {

    /** No registration with that id: nothing is recorded. */
    record Unknown() implements Preflight {
    }

    /** Registered, but the materialized view is not in the catalog any more. */
    record Gone(Registration registration) implements Preflight {
    }

    /** Another session holds the view's lock. */
    record Busy(Registration registration) implements Preflight {
    }

    /**
     * This session now holds the lock on {@code lockKey} and must release it.
     *
     * @param refusal         what the service's role lacks to refresh the view, or null if nothing
     * @param rejectedIndexes unique indexes CONCURRENTLY cannot use, with the reason, or null
     * @param run             the running run if the refresh can start; null if a prerequisite is missing
     */
    record Locked(Registration registration, int lockKey, Refusal refusal, boolean populated,
                  boolean hasUsableUniqueIndex, String rejectedIndexes, Run run) implements Preflight {
    }

    /**
     * The service's role may not refresh the view.
     *
     * @param missing USAGE (on the view's schema), MAINTAIN (PostgreSQL 17+) or OWNER (before 17)
     */
    record Refusal(String role, String missing, String owner) {

        String detail(Registration r) {
            String view = r.qualifiedName();
            String need = switch (missing) {
                case "USAGE" -> "the USAGE privilege on schema " + r.schemaName();
                case "MAINTAIN" -> "the MAINTAIN privilege on " + view + " (GRANT MAINTAIN ON "
                        + Identifiers.qualified(r.schemaName(), r.viewName()) + " TO " + role
                        + ", or membership in pg_maintain or in its owner role " + owner + ")";
                default -> "to own " + view + " (be its owner " + owner + " or a member of that role: GRANT " + owner
                        + " TO " + role + ")";
            };
            return "role " + role + " may not refresh materialized view " + view + ": it needs " + need
                    + " (SQLSTATE 42501)";
        }
    }
}
