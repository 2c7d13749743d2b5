package dev.matviews.db;

import dev.matviews.config.MatviewsConfig;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The schema that holds matviews' own tables ({@code matviews.schema}), and their names qualified
 * with it. Every statement names matviews' tables through here, so that no search_path of the
 * service's role can send a statement to an application's table of the same name, and the
 * session's search_path stays the role's own (a REFRESH on PostgreSQL 14-16 runs under it).
 */
@Singleton
public class OwnSchema {

    public static final String REGISTRY = "_ayb_matview_refreshes";
    public static final String RUNS = "_ayb_matview_refresh_runs";
    public static final String CASCADES = "_matviews_cascades";
    public static final String RUN_EVENT_SEQUENCE = "_ayb_matview_run_event_seq";
    public static final String JOBS = "_ayb_jobs";
    public static final String SCHEDULES = "_ayb_job_schedules";
    /** A registration as the API shows it (a view over the registry, from migration V5). */
    public static final String REGISTRATIONS = "_matviews_registrations";
    /** Flyway's history of matviews' own migrations; never the application's flyway_schema_history. */
    public static final String HISTORY = "_matviews_schema_history";

    private static final Pattern PLAIN = Pattern.compile("^[A-Za-z_][A-Za-z0-9_]*$");

    private final String name;

    @Inject
    public OwnSchema(MatviewsConfig config) {
        this(config.schema());
    }

    public OwnSchema(String name) {
        if (name == null || !PLAIN.matcher(name).matches() || name.getBytes(StandardCharsets.UTF_8).length > 63) {
            throw new IllegalArgumentException("matviews.schema must be a plain identifier of at most 63 bytes"
                    + " (^[A-Za-z_][A-Za-z0-9_]*$), got '" + name + "'");
        }
        this.name = name;
    }

    /** The schema's name as configured (case-sensitive: it is always quoted). */
    public String name() {
        return name;
    }

    public String registry() {
        return qualify(REGISTRY);
    }

    /** The registrations view: the registry's rows with their staleness and schedule. */
    public String registrations() {
        return qualify(REGISTRATIONS);
    }

    public String runs() {
        return qualify(RUNS);
    }

    public String cascades() {
        return qualify(CASCADES);
    }

    public String jobs() {
        return qualify(JOBS);
    }

    public String schedules() {
        return qualify(SCHEDULES);
    }

    public String history() {
        return qualify(HISTORY);
    }

    /**
     * The condition "a job or schedule of type {@code jobType} with {@code payload} refreshes the
     * materialized view {@code schemaName}.{@code viewName}" (all SQL expressions): the one
     * definition is the function of migration V5, inlined by the planner.
     */
    public String targetsView(String jobType, String payload, String schemaName, String viewName) {
        return qualify("_matviews_targets_view") + "(" + jobType + ", " + payload + ", " + schemaName + ", "
                + viewName + ")";
    }

    /** {@code nextval(...)} of the run event sequence, resolved without the search_path. */
    public String nextRunEvent() {
        return "nextval('" + qualify(RUN_EVENT_SEQUENCE) + "')";
    }

    /** {@code "schema".object}; the name is validated, so it needs no escaping. */
    public String qualify(String object) {
        return '"' + name + "\"." + object;
    }
}
