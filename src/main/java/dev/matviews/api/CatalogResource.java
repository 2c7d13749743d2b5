package dev.matviews.api;

import dev.matviews.config.Limits;
import dev.matviews.catalog.CatalogPage;
import dev.matviews.catalog.CatalogService;
import dev.matviews.catalog.DependencyGraph;
import dev.matviews.catalog.LaidOutGraph;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.tracking.ChangeLogState;
import dev.matviews.tracking.ChangeTrackingService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** What the database holds beyond the registry: every materialized view, and who reads whom. */
@Path("/api/admin")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "catalog", description = "The database's materialized views, registered or not, and their dependencies")
public class CatalogResource {

    static final String DOT = "text/vnd.graphviz";

    private final CatalogService catalog;
    private final ChangeTrackingService tracking;

    public CatalogResource(CatalogService catalog, ChangeTrackingService tracking) {
        this.catalog = catalog;
        this.tracking = tracking;
    }

    @GET
    @Path("/catalog/change-log")
    @Operation(summary = "The change log of skipUnchanged: its size, its oldest row, and whether capture runs",
            description = "Capture stops when no replica compacted the log for matviews.change-tracking.max-log-age, or"
                    + " when the log grows past max-log-size: writers then log nothing, and views reading tracked"
                    + " tables are refreshed in full, saying why, until change tracking is turned on again"
                    + " (POST /api/admin/matviews/{id}/change-tracking).")
    @APIResponse(responseCode = "200", description = "The log and its capture",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ChangeLogState.class)))
    public Uni<ChangeLogState> changeLog() {
        return tracking.logState();
    }

    @GET
    @Path("/catalog/matviews")
    @Operation(summary = "Every materialized view the service's role can see, registered or not, by schema and name",
            description = "With its owner, whether the role may refresh it (and what it lacks), whether it is populated,"
                    + " its size and row estimate, its unique indexes with the rule each fails for CONCURRENTLY, its"
                    + " registration, what it reads (through any depth of plain views) and the materialized views"
                    + " that read it. A page at a time.")
    @APIResponse(responseCode = "200", description = "One page",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = CatalogPage.class)))
    @APIResponse(responseCode = "400", description = "registered not true or false, bad cursor or limit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<CatalogPage> matviews(
            @Parameter(description = "Only views in this schema") @QueryParam("schema") String schema,
            @Parameter(description = "Only registered (true) or unregistered (false) views",
                    schema = @Schema(type = SchemaType.BOOLEAN)) @QueryParam("registered") String registered,
            @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor") String cursor,
            @Parameter(description = "Page size, 1 to " + CatalogService.MAX_PAGE, schema = @Schema(
                    type = SchemaType.INTEGER, minimum = "1", maximum = Limits.PAGE_MAX_TEXT, defaultValue = Limits.PAGE_DEFAULT_TEXT))
            @QueryParam("limit") String limit) {
        return Uni.createFrom().deferred(() -> catalog.page(schema, Requests.trueOrFalse("registered", registered),
                cursor, Requests.whole("limit", limit)));
    }

    @GET
    @Path("/graph")
    @Produces({MediaType.APPLICATION_JSON, DOT})
    @Operation(summary = "The dependency graph of every materialized view",
            description = "Nodes are the materialized views and what they read through plain views (tables, views,"
                    + " foreign tables); an edge goes from what is read to the view that reads it. ?format=dot"
                    + " answers Graphviz source instead; ?layout=true adds where to draw each node and edge (ELK"
                    + " Layered, left to right: what is read left of what reads it).")
    @APIResponse(responseCode = "200", description = "The graph",
            content = {@Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(oneOf = {DependencyGraph.class, LaidOutGraph.class})),
                    @Content(mediaType = DOT, schema = @Schema(type = SchemaType.STRING))})
    @APIResponse(responseCode = "400", description = "format is neither json nor dot, layout not true or false, or"
            + " layout with format=dot",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Uni<Response> graph(@Parameter(description = "json (default) or dot", schema = @Schema(
            enumeration = {"json", "dot"})) @QueryParam("format") String format,
                               @Parameter(description = LAYOUT, schema = @Schema(type = SchemaType.BOOLEAN))
                               @QueryParam("layout") String layout) {
        return Uni.createFrom().deferred(() -> {
            Drawing drawing = Drawing.of(format, layout);
            return catalog.graph().flatMap(graph -> drawing.answer(graph, catalog));
        });
    }

    static final String LAYOUT = "true: add where to draw each node and edge (JSON only)";

    /** How a graph is answered: Graphviz source, JSON, or JSON with its layout. */
    record Drawing(boolean dot, boolean layout) {

        static Drawing of(String format, String layout) {
            boolean dot = Requests.graphFormatIsDot(format);
            boolean laidOut = Boolean.TRUE.equals(Requests.trueOrFalse("layout", layout));
            if (dot && laidOut) {
                throw new InvalidInputException("layout=true answers JSON; format=dot is Graphviz source, which"
                        + " Graphviz lays out itself");
            }
            return new Drawing(dot, laidOut);
        }

        Uni<Response> answer(DependencyGraph graph, CatalogService catalog) {
            if (layout) {
                return catalog.laidOut(graph).map(g -> Response.ok(g, MediaType.APPLICATION_JSON).build());
            }
            return Uni.createFrom().item(dot ? Response.ok(graph.toDot(), DOT).build()
                    : Response.ok(graph, MediaType.APPLICATION_JSON).build());
        }
    }
}
