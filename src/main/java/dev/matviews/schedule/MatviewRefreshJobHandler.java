package dev.matviews.schedule;

import dev.matviews.runs.RunStatus;
import dev.matviews.cascade.CascadeStatus;
import dev.matviews.config.Limits;
import dev.matviews.cascade.Cascade;
import dev.matviews.cascade.CascadePlan;
import dev.matviews.cascade.CascadeService;
import dev.matviews.problem.MatviewsException;
import dev.matviews.refresh.RefreshAdmission;
import dev.matviews.refresh.RefreshFailure;
import dev.matviews.refresh.RefreshOutcome;
import dev.matviews.refresh.RefreshService;
import dev.matviews.registry.AlreadyRegisteredException;
import dev.matviews.registry.Identifiers;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.NotAMatviewException;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistryService;
import dev.matviews.runs.Trigger;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The original system's {@code materialized_view_refresh} job: payload {@code {"schema"?, "view_name"}}.
 * A view that is not registered yet is registered (standard mode) first, race-free. With
 * {@code "cascade": "downstream" | "upstream"} (and optionally {@code parallelism}, {@code onBusy})
 * the job runs a cascade from the view instead of a single refresh. {@code "target"} (a
 * registration id) marks a job the freshness target keeper queued; with {@code "freshAsOf"} its
 * upstream cascade reads as they are the sources whose data is that recent.
 */
@ApplicationScoped
public class MatviewRefreshJobHandler implements JobHandler {

    /** An upstream cascade leaves out the views whose data is as of this instant or later (the keeper's). */
    static final String FRESH_AS_OF = "freshAsOf";
    private static final Set<String> FIELDS = Set.of("schema", "view_name", "cascade", "parallelism", "onBusy",
            JobScheduler.TARGET_FIELD, FRESH_AS_OF);
    private static final Set<String> CASCADE_FIELDS = Set.of("parallelism", "onBusy", FRESH_AS_OF);

    private final Pool pool;
    private final RegistryService registry;
    private final RefreshService refreshes;
    private final JobRepository jobs;
    private final CascadeService cascades;
    private final RefreshAdmission admission;

    public MatviewRefreshJobHandler(Pool pool, RegistryService registry, RefreshService refreshes, JobRepository jobs,
                                    CascadeService cascades, RefreshAdmission admission) {
        this.admission = admission;
        this.pool = pool;
        this.registry = registry;
        this.refreshes = refreshes;
        this.jobs = jobs;
        this.cascades = cascades;
    }

    /** The job was canceled (its view unregistered) before it could register the view. */
    private static final class JobCanceledException extends RuntimeException {
        JobCanceledException() {
            super("canceled: the job was canceled (its view unregistered) before it registered the view", null, false, false);
        }
    }

    @Override
    public String type() {
        return ScheduleRepository.MATVIEW_JOB;
    }

    @Override
    public void validate(JsonObject payload) {
        if (payload == null) {
            throw new InvalidInputException("payload is required: {\"schema\"?: \"public\", \"view_name\": \"...\"}");
        }
        for (String key : payload.fieldNames()) {
            if (!FIELDS.contains(key)) {
                throw new InvalidInputException("payload of " + type() + " takes only schema, view_name, cascade,"
                        + " parallelism, onBusy, target and freshAsOf, got " + InvalidInputException.quoted(key));
            }
        }
        Object cascade = payload.getValue("cascade");
        if (cascade != null && !"downstream".equals(cascade) && !"upstream".equals(cascade)) {
            throw new InvalidInputException("payload.cascade must be downstream or upstream");
        }
        if (cascade == null) {
            for (String key : CASCADE_FIELDS) {
                if (payload.containsKey(key)) {
                    throw new InvalidInputException("payload." + key + " needs payload.cascade");
                }
            }
        }
        Object parallelism = payload.getValue("parallelism");
        if (parallelism != null && !(parallelism instanceof Integer p && Limits.parallelismAllowed(p))) {
            throw new InvalidInputException("payload.parallelism must be a whole number from " + Limits.PARALLELISM_MIN
                    + " to " + Limits.PARALLELISM_MAX);
        }
        Object onBusy = payload.getValue("onBusy");
        if (onBusy != null && !"wait".equals(onBusy) && !"skip".equals(onBusy)) {
            throw new InvalidInputException("payload.onBusy must be wait or skip");
        }
        Object freshAsOf = payload.getValue(FRESH_AS_OF);
        if (freshAsOf != null && !("upstream".equals(cascade) && freshAsOf instanceof String f && instant(f) != null)) {
            throw new InvalidInputException("payload.freshAsOf must be an ISO-8601 instant with an offset"
                    + " (2026-12-04T10:00:00Z), with cascade upstream");
        }
        Object target = payload.getValue(JobScheduler.TARGET_FIELD);
        if (target != null && !(target instanceof String t && isUuid(t))) {
            throw new InvalidInputException("payload.target must be the id (UUID) of the registration whose freshness"
                    + " target queued the job");
        }
        Object schema = payload.getValue("schema");
        Object view = payload.getValue("view_name");
        if (schema != null && !(schema instanceof String)) {
            throw new InvalidInputException("payload.schema must be a string");
        }
        if (!(view instanceof String)) {
            throw new InvalidInputException("payload.view_name is required and must be a string");
        }
        Identifiers.require("payload.schema", schema == null ? RegistryService.DEFAULT_SCHEMA : (String) schema);
        Identifiers.require("payload.view_name", (String) view);
    }

    @Override
    public Uni<JobOutcome> run(Attempt attempt) {
        JsonObject payload = attempt.payload();
        try {
            validate(payload);
        } catch (InvalidInputException e) {
            return Uni.createFrom().item(new JobOutcome.Permanent(e.getMessage(), null));
        }
        String schema = payload.getString("schema", RegistryService.DEFAULT_SCHEMA);
        String view = payload.getString("view_name");
        String cascade = payload.getString("cascade");
        return registration(schema, view, attempt)
                .flatMap(r -> r.suspended()
                        // suspended: no scheduled refresh until resumed; the job ends saying so
                        ? Uni.createFrom().item((JobOutcome) new JobOutcome.Completed(null, "skipped: "
                                + r.qualifiedName() + " is suspended (" + r.suspendedReason() + "); POST "
                                + "/api/admin/matviews/" + r.id() + "/resume resumes it"))
                        : cascade == null ? refresh(r, attempt.maxRuntime(), attempt.runStarted())
                        : cascade(r, cascade, payload, attempt))
                .onFailure().recoverWithItem(e -> e instanceof NotAMatviewException
                        ? new JobOutcome.Permanent(e.getMessage(), null)
                        : e instanceof JobCanceledException
                        ? new JobOutcome.Cancelled(e.getMessage(), null)
                        : new JobOutcome.Transient(message(e), null));
    }

    /**
     * The registration, registering the view first if needed; two workers racing both end up with
     * it. The registration commits only while the job is live: unregistering cancels the view's
     * running jobs in its own transaction, so a job of a view just unregistered never brings it back.
     */
    private Uni<Registration> registration(String schema, String view, Attempt attempt) {
        return registry.findByName(schema, view).flatMap(found -> found.isPresent()
                ? Uni.createFrom().item(found.get())
                : pool.withTransaction(tx -> jobs.holdLive(tx, attempt.jobId(), attempt.workerId())
                                .flatMap(live -> {
                                    if (!live) {
                                        throw new JobCanceledException();
                                    }
                                    return registry.registerWithin(tx, schema, view);
                                }))
                        .onFailure(AlreadyRegisteredException.class)
                        .recoverWithUni(() -> registry.findByName(schema, view).map(again -> again.orElseThrow())));
    }

    private Uni<JobOutcome> refresh(Registration r, Duration maxRuntime, Consumer<UUID> runStarted) {
        RefreshService.Handle handle = refreshes.launch(r.id(), Trigger.SCHEDULE, maxRuntime);
        handle.started().subscribe().with(run -> runStarted.accept(run.id()), ignored -> { });
        return handle.done().map(MatviewRefreshJobHandler::outcome)
                .onFailure().recoverWithItem(e -> new JobOutcome.Transient(message(e), null));
    }

    /**
     * A cascade from the view, its nodes runs of their own; the job's run is the view's. A failed
     * cascade is retried whole, like a failed refresh; one cancelled (its job cancelled, or the
     * instance shutting down) ends the attempt as cancelled, so the scheduler hands it back at shutdown.
     */
    private Uni<JobOutcome> cascade(Registration r, String direction, JsonObject payload, Attempt attempt) {
        CascadeService.Request request = new CascadeService.Request(
                direction.equals("upstream") ? CascadePlan.Direction.UPSTREAM : CascadePlan.Direction.DOWNSTREAM,
                r.id(), null, Trigger.SCHEDULE,
                new CascadeService.Options(payload.getInteger("parallelism"), payload.getString("onBusy")),
                attempt.jobId(), instant(payload.getString(FRESH_AS_OF)));
        return cascades.start(request).flatMap(CascadeService.Started::finished).map(c -> {
            UUID runId = c.nodes().stream().filter(n -> n.registrationId().equals(r.id())).findFirst()
                    .map(Cascade.Node::runId).orElse(null);
            long refreshed = c.nodes().stream().filter(n -> RunStatus.SUCCESS.dbName().equals(n.status())).count();
            String summary = "cascade " + c.id() + " " + c.status() + ": " + refreshed + " of " + c.nodes().size()
                    + " view(s) refreshed";
            if (CascadeStatus.SUCCESS.is(c.status())) {
                return new JobOutcome.Completed(runId, summary);
            }
            if (CascadeStatus.CANCELLED.is(c.status()) || admission.draining()) {
                return new JobOutcome.Cancelled(summary, runId);
            }
            String firstError = c.nodes().stream().filter(n -> n.error() != null && !"skipped".equals(n.status()))
                    .findFirst().map(n -> "; " + n.schemaName() + "." + n.viewName() + ": " + n.error()).orElse("");
            return new JobOutcome.Transient(summary + firstError, runId);
        });
    }

    /** A refresh's job outcome: a busy view was skipped (the pipeline recorded the skip), a failure as classified. */
    static JobOutcome outcome(RefreshOutcome outcome) {
        return outcome.match(
                refreshed -> new JobOutcome.Completed(refreshed.runId(), null),
                unchanged -> new JobOutcome.Completed(unchanged.runId(), unchanged.reason()),
                busy -> new JobOutcome.Completed(busy.runId(), "skipped: " + busy.answer().getMessage()),
                notStarted -> switch (notStarted.reason()) {
                    case SHUTTING_DOWN -> new JobOutcome.Cancelled(notStarted.answer().getMessage(), null);
                    case CAPACITY -> new JobOutcome.Transient(notStarted.answer().getMessage(), null);
                    // Unregistering cancels the view's jobs: this one ends so too, never retried.
                    case UNREGISTERED -> new JobOutcome.Cancelled(notStarted.answer().getMessage(), null);
                },
                failed -> failed.failure().kind() == RefreshFailure.Kind.CANCELLED
                        ? new JobOutcome.Cancelled(failed.answer().getMessage(), failed.runId())
                        : failed.failure().retryable() ? new JobOutcome.Transient(failed.answer().getMessage(), failed.runId())
                        : new JobOutcome.Permanent(failed.answer().getMessage(), failed.runId()));
    }

    /** An ISO-8601 instant with offset, as PostgreSQL's jsonb writes a timestamptz; null when absent or not one. */
    private static OffsetDateTime instant(String text) {
        if (text == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static boolean isUuid(String text) {
        try {
            UUID.fromString(text);
            return text.length() == 36;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String message(Throwable e) {
        return e instanceof MatviewsException ? e.getMessage() : "unexpected: " + e.getMessage();
    }
}
