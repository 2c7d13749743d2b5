package dev.matviews.incremental;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.OwnSchema;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.AlreadyRegisteredException;
import dev.matviews.registry.Identifiers;
import dev.matviews.registry.RefreshMode;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationRepository;
import dev.matviews.registry.RegistryService;
import dev.matviews.registry.TargetLag;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/** Incremental views: which definitions can be maintained from their changes. */
@ApplicationScoped
public class IncrementalService {

    /** The answer of explain. */
    @io.quarkus.runtime.annotations.RegisterForReflection
    public record Explanation(boolean incrementalEligible, List<String> reasons, List<String> columns, List<String> sources) {
    }

    private final DefinitionRepository definitions;
    private final IncrementalRepository repository;
    private final RegistrationRepository registrations;
    private final Pool pool;
    private final OwnSchema schema;
    private final double rebuildShare;
    private final long captureLockTimeoutMs;

    public IncrementalService(DefinitionRepository definitions, IncrementalRepository repository,
                              RegistrationRepository registrations, Pool pool, OwnSchema schema, MatviewsConfig config) {
        this.definitions = definitions;
        this.repository = repository;
        this.registrations = registrations;
        this.pool = pool;
        this.schema = schema;
        this.rebuildShare = config.incremental().rebuildShare();
        // installing capture waits for the tables' writers of the moment
        this.captureLockTimeoutMs = Math.max(1, config.incremental().lockTimeout().toMillis());
    }

    /**
     * Registers an incremental view: in one transaction, creates its table, registers it, installs
     * capture on the tables it reads (which waits for their writers of the moment) and populates it.
     * An ineligible definition is refused with explain's reasons, and changes nothing.
     */
    public Uni<Registration> register(String schemaName, String viewName, String definition, Integer statementTimeoutMs,
                                      Integer lockTimeoutMs, Integer maxStalenessSeconds, String targetLag) {
        return Uni.createFrom().deferred(() -> {
            String s = Identifiers.require("schema", schemaName == null ? RegistryService.DEFAULT_SCHEMA : schemaName);
            String v = Identifiers.require("viewName", viewName);
            if (v.startsWith("_matviews") || v.startsWith("_ayb_")) {
                throw new InvalidInputException("viewName must not start with _matviews or _ayb_ (kept for matviews' own tables)");
            }
            TargetLag target = TargetLag.parse("targetLag", targetLag);
            check(definition);
            String qualified = Identifiers.qualified(s, v);
            return definitions.parse(definition).flatMap(parsed -> {
                Eligibility.Result result = Eligibility.check(parsed.query(), parsed.columns(), parsed.incomparable(),
                        parsed.catalog());
                if (!result.eligible()) {
                    throw new NotIncrementalException(result.reasons());
                }
                MaintenancePlan plan = MaintenancePlan.of(parsed, schema.name());
                return pool.withTransaction(tx -> repository.lockTimeout(tx, captureLockTimeoutMs)
                        .chain(() -> registrations.findByName(tx, s, v))
                        .invoke(found -> {
                            if (found.isPresent()) {
                                throw new AlreadyRegisteredException(s, v);
                            }
                        })
                        .chain(() -> repository.run(tx, plan.createTable(qualified)))
                        .onFailure(e -> e instanceof PgException pg && "42P07".equals(pg.getSqlState()))
                        .transform(e -> new RelationExistsException(qualified))
                        .chain(() -> plan.createIndex(qualified) == null ? Uni.createFrom().voidItem()
                                : repository.run(tx, plan.createIndex(qualified)))
                        .chain(() -> registrations.insertIfMatview(tx, s, v, RefreshMode.INCREMENTAL, statementTimeoutMs,
                                lockTimeoutMs, maxStalenessSeconds, false, null, target, definition))
                        .map(inserted -> inserted.inserted().orElseThrow(() -> new AlreadyRegisteredException(s, v)))
                        .call(r -> repository.insertPlan(tx, r.id(), plan.sources(), plan.applySql(qualified), qualified))
                        .call(r -> repository.syncCapture(tx, plan.sources().stream().sorted().toList()))
                        .call(r -> repository.populate(tx, r.id(), rebuildShare)))
                        .onFailure(PgException.class).transform(e -> refused((PgException) e));
            });
        });
    }

    /** Privileges and locks, said as what to do; anything else as it is. */
    private Throwable refused(PgException pg) {
        if ("42501".equals(pg.getSqlState())) {
            return new dev.matviews.tracking.ChangeTrackingNotPermittedException("the service's role may not create"
                    + " this incremental view: " + pg.getErrorMessage() + " (SQLSTATE 42501). It needs CREATE on the"
                    + " view's schema, SELECT and TRIGGER on each table the definition reads, and to own those tables"
                    + " (or be a member of their owner) to enable capture ALWAYS (deploy/grants.sql). Nothing was changed.");
        }
        if ("55P03".equals(pg.getSqlState())) {
            return new dev.matviews.tracking.ChangeTrackingBusyException("a source table stayed locked by its writers"
                    + " for longer than matviews.incremental.lock-timeout (" + captureLockTimeoutMs + " ms: " + pg.getErrorMessage() + "); nothing was changed:"
                    + " try again");
        }
        return pg;
    }

    private static void check(String definition) {
        if (definition == null || definition.isBlank()) {
            throw new InvalidInputException("definition is required: a SELECT query");
        }
        if (definition.indexOf('\0') >= 0) {
            // PostgreSQL's protocol cannot carry it: the statement would break the connection (08P01)
            throw new InvalidInputException("definition must not contain a NUL character");
        }
    }

    public Uni<Explanation> explain(String definition) {
        return Uni.createFrom().deferred(() -> {
            check(definition);
            return definitions.parse(definition);
        }).map(parsed -> {
            Eligibility.Result result = Eligibility.check(parsed.query(), parsed.columns(), parsed.incomparable(),
                    parsed.catalog());
            return new Explanation(result.eligible(), result.reasons(), parsed.columns(), result.sources());
        });
    }
}
