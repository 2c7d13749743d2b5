package dev.matviews.api;

import dev.matviews.config.Limits;
import dev.matviews.cascade.Cascade;
import dev.matviews.cascade.CascadePlan;
import dev.matviews.cascade.CascadeService;
import dev.matviews.catalog.CatalogService;
import dev.matviews.catalog.DependencyGraph;
import dev.matviews.refresh.RefreshService;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationFilter;
import dev.matviews.incremental.IncrementalService;
import dev.matviews.registry.RegistryService;
import dev.matviews.registry.Setting;
import dev.matviews.runs.Run;
import dev.matviews.runs.RunPage;
import dev.matviews.runs.RunService;
import dev.matviews.runs.Trigger;
import dev.matviews.schedule.Schedule;
import dev.matviews.schedule.ScheduleRequest;
import dev.matviews.schedule.ScheduleService;
import com.fasterxml.jackson.databind.JsonNode;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.net.URI;
import java.util.UUID;

/** The admin API of the original system: maps HTTP to the registry and refresh services. */
@Path("/api/admin/matviews")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "matviews", description = "Registered materialized views and their refreshes")
public class MatviewResource {

    private final RegistryService registry;
    private final RefreshService refreshes;
    private final RunService runs;
    private final ScheduleService schedules;
    private final RequestValidator validator;
    private final CatalogService catalog;
    private final CascadeService cascades;
    private final IncrementalService incremental;

    public MatviewResource(RegistryService registry, RefreshService refreshes, RunService runs,
                           ScheduleService schedules, RequestValidator validator, CatalogService catalog,
                           CascadeService cascades, IncrementalService incremental) {
        this.incremental = incremental;
        this.registry = registry;
        this.catalog = catalog;
        this.cascades = cascades;
        this.refreshes = refreshes;
        this.runs = runs;
        this.schedules = schedules;
        this.validator = validator;
    }

    @GET
    @Operation(summary = "List registered materialized views, sorted by schema and view",
            description = "Without limit and cursor, every registration that passes the filters (all of them without"
                    + " filters, as the original API). With limit or cursor, one page (limit defaults to 100) and"
                    + " nextCursor for the next one.")
    @APIResponse(responseCode = "200", description = "Registrations, or one page of them",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RegistrationList.class),
                    examples = @ExampleObject(name = "list", value = Examples.LIST)))
    @APIResponse(responseCode = "400", description = "Unknown status, stale or suspended not true or false, bad cursor"
            + " or limit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<RegistrationList> list(
            @Parameter(description = "Only views in this schema") @QueryParam("schema") String schema,
            @Parameter(description = "Only the view of this name (with schema: at most one)") @QueryParam("view") String view,
            @Parameter(description = "Only views whose latest refresh is this (never: not refreshed yet; running: a"
                    + " refresh runs now)", schema = @Schema(enumeration = {"success", "error", "never", "running"}))
            @QueryParam("status") String status,
            @Parameter(description = "Only stale (true) or fresh (false) views", schema = @Schema(type = SchemaType.BOOLEAN))
            @QueryParam("stale") String stale,
            @Parameter(description = "Only suspended (true) or not suspended (false) views",
                    schema = @Schema(type = SchemaType.BOOLEAN))
            @QueryParam("suspended") String suspended,
            @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor") String cursor,
            @Parameter(description = "Page size, 1 to " + RegistryService.MAX_PAGE, schema = @Schema(
                    type = SchemaType.INTEGER, minimum = "1", maximum = Limits.PAGE_MAX_TEXT, defaultValue = Limits.PAGE_DEFAULT_TEXT))
            @QueryParam("limit") String limit) {
        return Uni.createFrom().deferred(() -> {
            RegistrationFilter filter = new RegistrationFilter(schema, view, status, Requests.trueOrFalse("stale", stale),
                    Requests.trueOrFalse("suspended", suspended));
            Integer size = Requests.whole("limit", limit);
            if (size == null && cursor == null) {
                return registry.matching(filter).map(RegistrationList::of);
            }
            return registry.page(filter, cursor, size).map(RegistrationList::of);
        });
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register a materialized view of the database")
    @RequestBody(required = true, content = @Content(schema = @Schema(implementation = RegisterRequest.class),
            examples = @ExampleObject(name = "register", value = Examples.REGISTER)))
    @APIResponse(responseCode = "201", description = "Registered",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class),
                    examples = @ExampleObject(name = "registration", value = Examples.REGISTRATION)))
    @APIResponse(responseCode = "400", description = "Invalid JSON, missing viewName, bad identifier or mode",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "invalid", value = Examples.INVALID)))
    @APIResponse(responseCode = "404", description = "No such materialized view in the database (tables and plain views do not count)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "matview-not-found", value = Examples.NOT_A_MATVIEW)))
    @APIResponse(responseCode = "422", description = "refreshMode incremental with a definition that cannot be"
            + " maintained incrementally; the detail names every reason (as explain does)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "Already registered, or (incremental) a relation of that name exists",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "already-registered", value = Examples.ALREADY_REGISTERED)))
    public Uni<Response> register(RegisterRequest request) {
        if (request == null) {
            return Uni.createFrom().failure(new InvalidInputException("request body is required"));
        }
        return Uni.createFrom().deferred(() -> {
                    RegisterRequest valid = validator.valid(request);
                    if ("incremental".equals(valid.refreshMode()) && valid.definition() != null) {
                        if (Boolean.TRUE.equals(valid.skipUnchanged())) {
                            throw new InvalidInputException("skipUnchanged does not apply to an incremental view: a"
                                    + " refresh with no pending change applies nothing");
                        }
                        return incremental.register(valid.schema(), valid.viewName(), valid.definition(),
                                valid.statementTimeoutMs(), valid.lockTimeoutMs(), valid.maxStalenessSeconds(),
                                valid.targetLag());
                    }
                    if (valid.definition() != null) {
                        throw new InvalidInputException("definition is for refreshMode incremental only");
                    }
                    return registry.register(valid.schema(), valid.viewName(), valid.refreshMode(),
                            valid.statementTimeoutMs(), valid.lockTimeoutMs(), valid.maxStalenessSeconds(),
                            valid.skipUnchanged(), valid.maxSkipAgeSeconds(), valid.targetLag());
                })
                .map(r -> Response.created(URI.create("/api/admin/matviews/" + r.id())).entity(r).build());
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Get one registration")
    @APIResponse(responseCode = "200", description = "The registration",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class),
                    examples = @ExampleObject(name = "registration", value = Examples.REGISTRATION)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND)))
    public Uni<Registration> get(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> registry.get(uuid(id)));
    }

    @GET
    @Path("/{id}/graph")
    @Produces({MediaType.APPLICATION_JSON, CatalogResource.DOT})
    @Operation(summary = "What a registered view reads and what reads it, at any depth",
            description = "Upstream through plain views and materialized views alike, down to the tables; downstream"
                    + " to every view and materialized view built on it. An edge goes from what is read to the view"
                    + " that reads it. ?format=dot answers Graphviz source instead.")
    @APIResponse(responseCode = "200", description = "The graph around the view",
            content = {@Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = DependencyGraph.class)),
                    @Content(mediaType = CatalogResource.DOT, schema = @Schema(type = SchemaType.STRING))})
    @APIResponse(responseCode = "400", description = "id is not a UUID, format is neither json nor dot, layout not"
            + " true or false, or layout with format=dot",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration, or its materialized view is gone",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> graph(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id,
                               @Parameter(description = "json (default) or dot", schema = @Schema(
                                       enumeration = {"json", "dot"})) @QueryParam("format") String format,
                               @Parameter(description = CatalogResource.LAYOUT, schema = @Schema(type = SchemaType.BOOLEAN))
                               @QueryParam("layout") String layout) {
        return Uni.createFrom().deferred(() -> {
            UUID uuid = uuid(id);
            CatalogResource.Drawing drawing = CatalogResource.Drawing.of(format, layout);
            return registry.get(uuid).flatMap(catalog::graphAround).flatMap(graph -> drawing.answer(graph, catalog));
        });
    }

    @PUT
    @Path("/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Change a registration's refresh mode, timeouts, skipUnchanged or freshness target")
    @RequestBody(required = true, content = @Content(schema = @Schema(implementation = UpdateRequest.class),
            examples = @ExampleObject(name = "update", value = Examples.UPDATE)))
    @APIResponse(responseCode = "200", description = "The updated registration",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class)))
    @APIResponse(responseCode = "400", description = "Invalid JSON, id not a UUID, refreshMode missing or unknown",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND)))
    public Uni<Registration> update(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id,
                                    JsonNode request) {
        return Uni.createFrom().deferred(() -> {
            UUID uuid = uuid(id);
            JsonNode body = Requests.object(request);
            Setting<String> mode = Requests.text(body, "refreshMode");
            Setting<Integer> statementTimeout = Requests.integer(body, "statementTimeoutMs");
            Setting<Integer> lockTimeout = Requests.integer(body, "lockTimeoutMs");
            Setting<Integer> staleness = Requests.integer(body, "maxStalenessSeconds");
            Setting<Boolean> skip = Requests.booleanSetting(body, "skipUnchanged");
            Setting<Integer> maxSkipAge = Requests.integer(body, "maxSkipAgeSeconds");
            Setting<String> targetLag = Requests.text(body, "targetLag");
            validator.valid(new UpdateRequest(mode.value(), statementTimeout.value(), lockTimeout.value(),
                    staleness.value(), skip.value(), maxSkipAge.value(), targetLag.value()));
            return registry.update(uuid, mode, statementTimeout, lockTimeout, staleness, skip, maxSkipAge, targetLag);
        });
    }

    @POST
    @Path("/{id}/resume")
    @Operation(summary = "Resume a suspended registration",
            description = "Scheduled and target-driven refreshes run again for it and for every registration suspended"
                    + " because of it (the registered views that read it); their failure counts start from zero. A"
                    + " registration that is not suspended is left as it is.")
    @APIResponse(responseCode = "200", description = "The registration as it now is",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND)))
    public Uni<Registration> resume(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> registry.resume(uuid(id)));
    }

    @DELETE
    @Path("/{id}")
    @Operation(summary = "Unregister a materialized view (the view itself is left alone)",
            description = "Its refresh schedules are deleted with it, so nothing registers it again behind your back."
                    + " An incremental view's change capture goes (triggers no other registration needs, their change"
                    + " rows); its table stays unless drop=true.")
    @APIResponse(responseCode = "204", description = "Unregistered; it had no schedule")
    @APIResponse(responseCode = "200", description = "Unregistered, and these schedules were deleted with it",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Unregistered.class)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND)))
    public Uni<Response> unregister(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id,
            @Parameter(description = "true: an incremental view's table is dropped too (refused for a materialized"
                    + " view)", schema = @Schema(type = SchemaType.BOOLEAN)) @QueryParam("drop") String drop) {
        return Uni.createFrom().deferred(() -> registry.unregister(uuid(id),
                        Boolean.TRUE.equals(Requests.trueOrFalse("drop", drop))))
                .map(removed -> removed.isEmpty() ? Response.noContent().build()
                        : Response.ok(new Unregistered(removed)).build());
    }

    @PUT
    @Path("/{id}/schedule")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create or replace the view's refresh schedule",
            description = "A materialized_view_refresh schedule named matview-refresh:<schema>.<view>. Body: cronExpr"
                    + " (required), timezone, and optionally enabled, maxAttempts, maxRuntimeMs, missedRunPolicy.")
    @RequestBody(required = true, content = @Content(schema = @Schema(implementation = ScheduleRequest.class)))
    @APIResponse(responseCode = "200", description = "The schedule",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Schedule.class)))
    @APIResponse(responseCode = "400", description = "Bad cron or time zone, or another invalid field",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Schedule> schedule(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id, JsonNode body) {
        return Uni.createFrom().deferred(() -> schedules.scheduleView(uuid(id), validator.valid(Requests.schedule(body))));
    }

    @DELETE
    @Path("/{id}/schedule")
    @Operation(summary = "Remove the view's refresh schedule")
    @APIResponse(responseCode = "204", description = "Removed")
    @APIResponse(responseCode = "404", description = "No such registration (registration-not-found) or it has no"
            + " schedule (schedule-not-found)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> unschedule(@Parameter(description = "Registration id (UUID)",
            schema = @Schema(type = SchemaType.STRING, format = "uuid")) @PathParam("id") String id) {
        return Uni.createFrom().deferred(() -> schedules.unscheduleView(uuid(id)))
                .map(ignored -> Response.noContent().build());
    }

    @POST
    @Path("/{id}/refresh")
    @Operation(summary = "Refresh now",
            description = "Takes the view's advisory lock, runs REFRESH MATERIALIZED VIEW (CONCURRENTLY in concurrent"
                    + " mode) and records the outcome as a run, all on one database session. The request body is"
                    + " ignored. Synchronous by default: a client that disconnects cancels the running REFRESH and"
                    + " the run is recorded as cancelled. With `Prefer: respond-async` or `?async=true` the answer is"
                    + " 202 as soon as the run has started, and the refresh goes on without the client.")
    @APIResponse(responseCode = "200", description = "Refreshed; the registration as stored after the refresh",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RefreshResponse.class),
                    examples = @ExampleObject(name = "refreshed", value = Examples.REFRESHED)))
    @APIResponse(responseCode = "202", description = "Asynchronous refresh started; Location is its run",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Run.class),
                    examples = @ExampleObject(name = "started", value = Examples.RUN_STARTED)))
    @APIResponse(responseCode = "400", description = "id is not a UUID",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such registration (type registration-not-found), or its"
            + " materialized view was dropped (type matview-gone; recorded as an error)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = {@ExampleObject(name = "registration-not-found", value = Examples.NOT_FOUND),
                            @ExampleObject(name = "matview-gone", value = Examples.GONE)}))
    @APIResponse(responseCode = "409", description = "Another session is refreshing the view (type refresh-in-progress;"
            + " nothing recorded); concurrent mode lacks a usable unique index (unique-index-required) or a"
            + " populated view (not-populated), both recorded as errors; the service's database role may not refresh"
            + " it (refresh-not-permitted, SQLSTATE 42501, the detail names the missing privilege; recorded); or the"
            + " run was cancelled (refresh-cancelled)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = {@ExampleObject(name = "refresh-in-progress", value = Examples.IN_PROGRESS),
                            @ExampleObject(name = "unique-index-required", value = Examples.NO_INDEX),
                            @ExampleObject(name = "not-populated", value = Examples.NOT_POPULATED),
                            @ExampleObject(name = "refresh-not-permitted", value = Examples.NOT_PERMITTED)}))
    @APIResponse(responseCode = "500", description = "PostgreSQL refused the REFRESH; the error and SQLSTATE are recorded",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "refresh-failed", value = Examples.FAILED)))
    @APIResponse(responseCode = "503", description = "This instance already runs its maximum of refreshes; retry later",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class),
                    examples = @ExampleObject(name = "refresh-capacity", value = Examples.CAPACITY)))
    @APIResponse(responseCode = "504", description = "statement_timeout or lock_timeout ended the refresh (type"
            + " refresh-timeout; recorded as a timeout run)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> refresh(
            @Parameter(description = "Registration id (UUID)", schema = @Schema(type = SchemaType.STRING, format = "uuid"))
            @PathParam("id") String id,
            @Parameter(description = "respond-async: answer 202 once the run started") @HeaderParam("Prefer") String prefer,
            @Parameter(description = "Same as Prefer: respond-async", schema = @Schema(type = SchemaType.BOOLEAN))
            @QueryParam("async") String async,
            @Parameter(description = "downstream: the view, then every registered view that reads it at any depth;"
                    + " upstream: every registered view it reads at any depth, then the view. The answer is the"
                    + " cascade (200 when it ended, 202 at once when async)",
                    schema = @Schema(enumeration = {"downstream", "upstream"})) @QueryParam("cascade") String cascade,
            @Parameter(description = "With cascade: nodes refreshed at once (default matviews.cascade.parallelism)",
                    schema = @Schema(type = SchemaType.INTEGER, minimum = Limits.PARALLELISM_MIN_TEXT,
                            maximum = Limits.PARALLELISM_MAX_TEXT))
            @QueryParam("parallelism") String parallelism,
            @Parameter(description = "With cascade: a node whose view is being refreshed elsewhere waits for it or is"
                    + " skipped (default matviews.cascade.on-busy)", schema = @Schema(enumeration = {"wait", "skip"}))
            @QueryParam("onBusy") String onBusy) {
        boolean respondAsync = Requests.flag("async", async) || Requests.prefersAsync(prefer);
        if (cascade != null) {
            return Uni.createFrom().deferred(() -> cascades.start(Requests.cascadeDirection(cascade), uuid(id),
                    respondAsync ? Trigger.ASYNC : Trigger.MANUAL,
                    new CascadeService.Options(Requests.whole("parallelism", parallelism), onBusy)))
                    .flatMap(started -> CascadeResource.answer(started, respondAsync, cascades));
        }
        if (respondAsync) {
            return Uni.createFrom().deferred(() -> refreshes.start(uuid(id), Trigger.ASYNC))
                    .map(run -> Response.accepted(run).location(URI.create(RunResource.PATH + "/" + run.id()))
                            .header("Preference-Applied", "respond-async").build());
        }
        return Uni.createFrom().deferred(() -> refreshes.refresh(uuid(id)))
                .map(outcome -> outcome.match(
                        refreshed -> Response.ok(new RefreshResponse(refreshed.registration(), refreshed.durationMs(),
                                refreshed.runId(), null)).build(),
                        unchanged -> Response.ok(new RefreshResponse(unchanged.registration(), 0, unchanged.runId(),
                                unchanged.reason())).build(),
                        busy -> { throw busy.answer(); },
                        notStarted -> { throw notStarted.answer(); },
                        failed -> { throw failed.answer(); }));
    }

    @POST
    @Path("/refresh-all")
    @Operation(summary = "Refresh every registered view in the order of the dependency graph",
            description = "A cascade over all registrations: a view starts once every registered view it reads (at any"
                    + " depth, through plain and unregistered views) has been refreshed; independent branches run in"
                    + " parallel. A failed view's dependents are skipped, the other branches go on.")
    @APIResponse(responseCode = "200", description = "The cascade, ended",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Cascade.class)))
    @APIResponse(responseCode = "202", description = "The cascade, started; Location is the cascade",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Cascade.class)))
    @APIResponse(responseCode = "400", description = "Bad parallelism, onBusy or schema",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> refreshAll(
            @Parameter(description = "respond-async: answer 202 once the cascade started") @HeaderParam("Prefer") String prefer,
            @Parameter(description = "Same as Prefer: respond-async", schema = @Schema(type = SchemaType.BOOLEAN))
            @QueryParam("async") String async,
            @Parameter(description = "Views refreshed at once (default matviews.cascade.parallelism)",
                    schema = @Schema(type = SchemaType.INTEGER, minimum = Limits.PARALLELISM_MIN_TEXT,
                            maximum = Limits.PARALLELISM_MAX_TEXT))
            @QueryParam("parallelism") String parallelism,
            @Parameter(description = "A view being refreshed elsewhere is waited for or skipped (default"
                    + " matviews.cascade.on-busy)", schema = @Schema(enumeration = {"wait", "skip"}))
            @QueryParam("onBusy") String onBusy,
            @Parameter(description = "Only the registered views of this schema (still ordered through every other"
                    + " view they read)") @QueryParam("schema") String schema) {
        boolean respondAsync = Requests.flag("async", async) || Requests.prefersAsync(prefer);
        return Uni.createFrom().deferred(() -> cascades.start(new CascadeService.Request(CascadePlan.Direction.ALL,
                        null, schema, respondAsync ? Trigger.ASYNC : Trigger.MANUAL,
                        new CascadeService.Options(Requests.whole("parallelism", parallelism), onBusy), null)))
                .flatMap(started -> CascadeResource.answer(started, respondAsync, cascades));
    }

    @GET
    @Path("/{id}/runs")
    @Operation(summary = "History of a view's refreshes, newest first")
    @APIResponse(responseCode = "200", description = "One page of runs",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RunPage.class)))
    @APIResponse(responseCode = "400", description = "id not a UUID, unknown status, bad cursor or limit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "Neither registered nor in the history",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<RunPage> runs(
            @Parameter(description = "Registration id (UUID)", schema = @Schema(type = SchemaType.STRING, format = "uuid"))
            @PathParam("id") String id,
            @Parameter(description = "Only runs with this status",
                    schema = @Schema(enumeration = {"running", "success", "error", "cancelled", "timeout", "skipped",
                            "abandoned"})) @QueryParam("status") String status,
            @Parameter(description = "Only suspended (true) or not suspended (false) views",
                    schema = @Schema(type = SchemaType.BOOLEAN))
            @QueryParam("suspended") String suspended,
            @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor") String cursor,
            @Parameter(description = "Page size, 1 to 200", schema = @Schema(type = SchemaType.INTEGER, minimum = "1",
                    maximum = "200", defaultValue = "50"))
            @QueryParam("limit") String limit) {
        return Uni.createFrom().deferred(() -> runs.history(uuid(id), status, cursor, Requests.whole("limit", limit)));
    }

    private static UUID uuid(String id) {
        return Requests.uuid("id", id);
    }
}
