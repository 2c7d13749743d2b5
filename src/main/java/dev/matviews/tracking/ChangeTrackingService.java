package dev.matviews.tracking;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.registry.MatviewGoneException;
import dev.matviews.registry.RegistryService;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/**
 * Change tracking for skipUnchanged: installs and removes the statement-level triggers on a
 * registration's source tables, and says whether its next refresh would be skipped.
 */
@ApplicationScoped
public class ChangeTrackingService {

    private static final Logger LOG = Logger.getLogger(ChangeTrackingService.class);
    private static final String INSUFFICIENT_PRIVILEGE = "42501";
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    private final Pool pool;
    private final ChangeTrackingRepository repository;
    private final RegistryService registry;
    private final MatviewsConfig.Refresh refresh;
    private final MatviewsConfig.ChangeTracking tracking;
    private volatile OffsetDateTime reportedStop;

    public ChangeTrackingService(Pool pool, ChangeTrackingRepository repository, RegistryService registry,
                                 MatviewsConfig config) {
        this.pool = pool;
        this.repository = repository;
        this.registry = registry;
        this.refresh = config.refresh();
        this.tracking = config.changeTracking();
    }

    public Uni<ChangeTracking> status(UUID id) {
        return viewOf(id).flatMap(oid -> repository.status(pool, id, oid));
    }

    /**
     * Installs the trigger on every source table, all or none, waiting at most the refresh lock
     * timeout for each table's writers (the trigger's DDL waits for their transactions to end).
     */
    public Uni<ChangeTracking> install(UUID id) {
        return viewOf(id).flatMap(oid -> pool.withTransaction(tx -> lockTimeout(tx)
                        .flatMap(ignored -> repository.track(tx, oid, id)))
                .invoke(tables -> LOG.infof("change tracking on for registration %s: %s", id, tables))
                .onFailure(PgException.class).transform(this::refused)
                .flatMap(ignored -> repository.status(pool, id, oid)));
    }

    /** Removes this registration's claims; triggers no other registration claims are dropped. */
    public Uni<ChangeTracking> remove(UUID id) {
        return viewOf(id).flatMap(oid -> pool.withTransaction(tx -> lockTimeout(tx)
                        .flatMap(ignored -> repository.untrack(tx, id)))
                .onFailure(PgException.class).transform(this::refused)
                .flatMap(ignored -> repository.status(pool, id, oid)));
    }

    /** The trigger DDL waits for a table's writers: at most the refresh lock timeout, in this transaction. */
    private Uni<Void> lockTimeout(SqlClient tx) {
        return repository.lockTimeout(tx, Math.max(1, refresh.lockTimeout().toMillis()));
    }

    /**
     * One compaction pass: deletes the change rows no registration can need, {@code batch} at a
     * time, up to the oldest transaction running when the pass began; how many.
     */
    public Uni<Long> compact(int batch) {
        return heartbeat().flatMap(ignored -> repository.ceiling(pool)).flatMap(ceiling -> compactBelow(batch, ceiling));
    }

    /**
     * Tells the database a replica is compacting, which keeps capture running for max-log-age more;
     * or learns (and logs once) that capture stopped.
     */
    public Uni<Optional<OffsetDateTime>> heartbeat() {
        return repository.heartbeat(pool, tracking.maxLogAge().toSeconds(), tracking.maxLogSize().asLongValue())
                .invoke(stopped -> {
                    if (stopped.isPresent() && !stopped.get().equals(reportedStop)) {
                        reportedStop = stopped.get();
                        LOG.warnf("change capture of skipUnchanged stopped at %s; views reading tracked tables are"
                                + " refreshed in full until change tracking is turned on again", stopped.get());
                    } else if (stopped.isEmpty()) {
                        reportedStop = null;
                    }
                });
    }

    /** The change log's size, its oldest row and the state of its capture. */
    public Uni<ChangeLogState> logState() {
        return repository.logState(pool);
    }

    private Uni<Long> compactBelow(int batch, String ceiling) {
        return repository.compact(pool, batch, ceiling).flatMap(n -> n < batch ? Uni.createFrom().item((long) n)
                : compactBelow(batch, ceiling).map(more -> n + more));
    }

    private Uni<Long> viewOf(UUID id) {
        // registry.get answers 404 for an unknown id; an empty lookup after it means the view is gone.
        return registry.get(id).flatMap(r -> repository.matview(pool, id)
                .map(found -> found.orElseThrow(() -> new MatviewGoneException(r.qualifiedName()))));
    }

    private Throwable refused(Throwable e) {
        PgException pg = (PgException) e;
        if (INSUFFICIENT_PRIVILEGE.equals(pg.getSqlState())) {
            return new ChangeTrackingNotPermittedException("the service's role may not install change tracking: "
                    + pg.getErrorMessage() + " (SQLSTATE 42501). The trigger needs the TRIGGER privilege on each"
                    + " source table, and enabling it ALWAYS (so that it fires under session_replication_role ="
                    + " replica too) needs the table's owner: make the service's role the owner or a member of the"
                    + " owning role. Nothing was changed.");
        }
        if (LOCK_NOT_AVAILABLE.equals(pg.getSqlState())) {
            return new ChangeTrackingBusyException("a source table stayed locked by its writers for longer than "
                    + refresh.lockTimeout() + " (" + pg.getErrorMessage() + "); nothing was changed: try again");
        }
        return e;
    }
}
