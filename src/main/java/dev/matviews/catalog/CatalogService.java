package dev.matviews.catalog;

import dev.matviews.config.Limits;
import dev.matviews.db.NameCursor;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.MatviewGoneException;
import dev.matviews.registry.Registration;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.List;

/** The database's materialized views, registered or not, and the graph of who reads whom. */
@ApplicationScoped
public class CatalogService {

    private static final Logger LOG = Logger.getLogger(CatalogService.class);

    public static final int DEFAULT_PAGE = Limits.PAGE_DEFAULT;
    public static final int MAX_PAGE = Limits.PAGE_MAX;

    private final Pool pool;
    private final CatalogRepository repository;
    private final GraphLayoutService layouts;

    public CatalogService(Pool pool, CatalogRepository repository, GraphLayoutService layouts) {
        this.pool = pool;
        this.repository = repository;
        this.layouts = layouts;
    }

    /**
     * Lays the database's graph out as the service starts (after ELK's own warm-up): the first
     * console that opens the graph finds its drawing ready, unless views changed meanwhile.
     */
    void prime(@Observes StartupEvent event) {
        graph().flatMap(layouts::laidOut).subscribe().with(
                laid -> LOG.debugf("graph of %d relations laid out at start", laid.nodes().size()),
                failure -> LOG.debugf("graph not laid out at start: %s", failure.getMessage()));
    }

    /** The graph with where to draw each node and edge. */
    public Uni<LaidOutGraph> laidOut(DependencyGraph graph) {
        return layouts.laidOut(graph);
    }

    /** A page of the catalog after {@code cursor} (null: the first), optionally of one schema or registration state. */
    public Uni<CatalogPage> page(String schema, Boolean registered, String cursor, Integer limit) {
        return Uni.createFrom().deferred(() -> {
            int size = limit == null ? DEFAULT_PAGE : limit;
            if (size < 1 || size > MAX_PAGE) {
                throw new InvalidInputException("limit must be between 1 and " + MAX_PAGE + ", got " + size);
            }
            return repository.page(pool, NameCursor.decode(cursor), schema, registered, size + 1).map(found -> {
                if (found.size() <= size) {
                    return new CatalogPage(found, found.size(), null);
                }
                List<CatalogEntry> items = found.subList(0, size);
                CatalogEntry last = items.get(size - 1);
                return new CatalogPage(items, size, new NameCursor(last.schemaName(), last.viewName()).encode());
            });
        });
    }

    /** Every materialized view of the database and what it reads, through plain views. */
    public Uni<DependencyGraph> graph() {
        return repository.wholeGraph(pool);
    }

    /** Everything upstream and downstream of a registered view, at any depth. */
    public Uni<DependencyGraph> graphAround(Registration r) {
        return repository.around(pool, r.schemaName(), r.viewName()).map(graph -> {
            if (graph.nodes().isEmpty()) {
                throw new MatviewGoneException(r.qualifiedName());
            }
            return graph;
        });
    }
}
