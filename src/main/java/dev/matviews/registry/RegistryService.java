package dev.matviews.registry;

import dev.matviews.config.Limits;
import dev.matviews.db.NameCursor;
import dev.matviews.problem.InvalidInputException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Registering, listing, changing and forgetting materialized views. Identifiers and modes are
 * validated inside the returned Uni (deferred), so bad input fails the pipeline and never reaches
 * the database; numeric limits are the request records' constraints, checked at the API (and
 * backed by the table's CHECK constraints).
 */
@ApplicationScoped
public class RegistryService {

    public static final String DEFAULT_SCHEMA = "public";

    private final Pool pool;
    private final RegistrationRepository repository;
    private final Instance<RegistrationDependents> dependents;

    public RegistryService(Pool pool, RegistrationRepository repository, Instance<RegistrationDependents> dependents) {
        this.pool = pool;
        this.repository = repository;
        this.dependents = dependents;
    }

    public Uni<Registration> register(String schema, String viewName, String refreshMode) {
        return register(schema, viewName, refreshMode, null, null, null);
    }

    public Uni<Registration> register(String schema, String viewName, String refreshMode,
                                      Integer statementTimeoutMs, Integer lockTimeoutMs, Integer maxStalenessSeconds) {
        return register(schema, viewName, refreshMode, statementTimeoutMs, lockTimeoutMs, maxStalenessSeconds, null,
                null);
    }

    public Uni<Registration> register(String schema, String viewName, String refreshMode,
                                      Integer statementTimeoutMs, Integer lockTimeoutMs, Integer maxStalenessSeconds,
                                      Boolean skipUnchanged, Integer maxSkipAgeSeconds) {
        return register(pool, schema, viewName, refreshMode, statementTimeoutMs, lockTimeoutMs, maxStalenessSeconds,
                skipUnchanged, maxSkipAgeSeconds, null);
    }

    /** With a freshness target ({@link TargetLag}'s forms; null: none). */
    public Uni<Registration> register(String schema, String viewName, String refreshMode,
                                      Integer statementTimeoutMs, Integer lockTimeoutMs, Integer maxStalenessSeconds,
                                      Boolean skipUnchanged, Integer maxSkipAgeSeconds, String targetLag) {
        return register(pool, schema, viewName, refreshMode, statementTimeoutMs, lockTimeoutMs, maxStalenessSeconds,
                skipUnchanged, maxSkipAgeSeconds, targetLag);
    }

    /** Registers in standard mode within the caller's transaction, so it commits only with the rest of it. */
    public Uni<Registration> registerWithin(SqlClient tx, String schema, String viewName) {
        return register(tx, schema, viewName, null, null, null, null, null, null, null);
    }

    private Uni<Registration> register(SqlClient client, String schema, String viewName, String refreshMode,
                                       Integer statementTimeoutMs, Integer lockTimeoutMs, Integer maxStalenessSeconds,
                                       Boolean skipUnchanged, Integer maxSkipAgeSeconds, String targetLag) {
        return Uni.createFrom().deferred(() -> {
            String s = Identifiers.require("schema", schema == null ? DEFAULT_SCHEMA : schema);
            String v = Identifiers.require("viewName", viewName);
            RefreshMode mode = refreshMode == null ? RefreshMode.STANDARD : RefreshMode.parse(refreshMode);
            if (mode == RefreshMode.INCREMENTAL) {
                throw new InvalidInputException("refreshMode incremental needs a definition: the query the view's"
                        + " table is kept equal to");
            }
            TargetLag target = TargetLag.parse("targetLag", targetLag);
            return repository.insertIfMatview(client, s, v, mode, statementTimeoutMs, lockTimeoutMs, maxStalenessSeconds,
                            skipUnchanged, maxSkipAgeSeconds, target)
                    .map(result -> {
                        if (!result.isMatview()) {
                            throw new NotAMatviewException(s, v);
                        }
                        return result.inserted().orElseThrow(() -> new AlreadyRegisteredException(s, v));
                    });
        });
    }

    /** Every registration, in name order (the original API's list). */
    public Uni<List<Registration>> list() {
        return matching(RegistrationFilter.NONE);
    }

    /** Every registration that passes {@code filter}, in name order. */
    public Uni<List<Registration>> matching(RegistrationFilter filter) {
        return repository.page(pool, filter, "", "", Integer.MAX_VALUE);
    }

    public static final int DEFAULT_PAGE = Limits.PAGE_DEFAULT;
    public static final int MAX_PAGE = Limits.PAGE_MAX;

    /** One page of registrations in name order; nextCursor is null on the last page. */
    public record Page(List<Registration> items, String nextCursor) {
    }

    /** The registrations that pass {@code filter}, a page at a time from {@code cursor} (null: the first). */
    public Uni<Page> page(RegistrationFilter filter, String cursor, Integer limit) {
        return Uni.createFrom().deferred(() -> {
            int size = limit == null ? DEFAULT_PAGE : limit;
            if (size < 1 || size > MAX_PAGE) {
                throw new InvalidInputException("limit must be between 1 and " + MAX_PAGE + ", got " + size);
            }
            NameCursor after = NameCursor.decode(cursor);
            return repository.page(pool, filter, after.schema(), after.name(), size + 1).map(found -> {
                if (found.size() <= size) {
                    return new Page(found, null);
                }
                List<Registration> items = found.subList(0, size);
                Registration last = items.get(size - 1);
                return new Page(items, new NameCursor(last.schemaName(), last.viewName()).encode());
            });
        });
    }

    public Uni<Registration> get(UUID id) {
        return repository.findById(pool, id)
                .map(found -> found.orElseThrow(() -> new RegistrationNotFoundException(id)));
    }

    public Uni<Optional<Registration>> findByName(String schema, String viewName) {
        return Uni.createFrom().deferred(() -> repository.findByName(pool,
                Identifiers.require("schema", schema), Identifiers.require("viewName", viewName)));
    }

    /** A partial update; at least one field must be present, and a present mode must not be null. */
    public Uni<Registration> update(UUID id, Setting<String> refreshMode, Setting<Integer> statementTimeoutMs,
                                    Setting<Integer> lockTimeoutMs, Setting<Integer> maxStalenessSeconds) {
        return update(id, refreshMode, statementTimeoutMs, lockTimeoutMs, maxStalenessSeconds, Setting.absent(),
                Setting.absent(), Setting.absent());
    }

    public Uni<Registration> update(UUID id, Setting<String> refreshMode, Setting<Integer> statementTimeoutMs,
                                    Setting<Integer> lockTimeoutMs, Setting<Integer> maxStalenessSeconds,
                                    Setting<Boolean> skipUnchanged, Setting<Integer> maxSkipAgeSeconds,
                                    Setting<String> targetLag) {
        return Uni.createFrom().deferred(() -> {
            if (!refreshMode.present() && !statementTimeoutMs.present() && !lockTimeoutMs.present()
                    && !maxStalenessSeconds.present() && !skipUnchanged.present() && !maxSkipAgeSeconds.present()
                    && !targetLag.present()) {
                throw new InvalidInputException("refreshMode is required (or statementTimeoutMs, lockTimeoutMs,"
                        + " maxStalenessSeconds, skipUnchanged, maxSkipAgeSeconds, targetLag)");
            }
            Setting<TargetLag> target = targetLag.present() ? Setting.of(TargetLag.parse("targetLag", targetLag.value()))
                    : Setting.absent();
            if (skipUnchanged.present() && skipUnchanged.value() == null) {
                throw new InvalidInputException("skipUnchanged must be true or false");
            }
            if (refreshMode.present() && refreshMode.value() == null) {
                throw new InvalidInputException("refreshMode must not be null");
            }
            RefreshMode mode = refreshMode.present() ? RefreshMode.parse(refreshMode.value()) : null;
            if (mode == RefreshMode.INCREMENTAL) {
                throw new InvalidInputException("refreshMode cannot become incremental: register an incremental view"
                        + " with its definition");
            }
            return repository.update(pool, id, mode, statementTimeoutMs, lockTimeoutMs, maxStalenessSeconds,
                            skipUnchanged.value(), maxSkipAgeSeconds, target)
                    // the CHECK that keeps an incremental view incremental (V19)
                    .onFailure(e -> e instanceof io.vertx.pgclient.PgException pg && "23514".equals(pg.getSqlState()))
                    .transform(e -> new InvalidInputException("an incremental view's refreshMode stays incremental"
                            + " and skipUnchanged does not apply to it (a refresh with nothing pending applies nothing)"))
                    .map(found -> found.orElseThrow(() -> new RegistrationNotFoundException(id)));
        });
    }

    /**
     * Resumes a suspended registration and every registration suspended because of it (a no-op for
     * one that is not suspended); returns it as it now is.
     */
    public Uni<Registration> resume(UUID id) {
        return repository.resume(pool, id).map(found -> found.orElseThrow(() -> new RegistrationNotFoundException(id)));
    }

    /**
     * Unregisters a view and removes what belongs to it (its refresh schedules, its queued refresh
     * jobs) in one transaction; returns the names of the schedules removed. The view itself stays.
     */
    public Uni<List<String>> unregister(UUID id) {
        return unregister(id, false);
    }

    /**
     * The same; with {@code drop}, an incremental view's table is dropped too (a materialized view
     * is never dropped: that is refused, and nothing changes).
     */
    public Uni<List<String>> unregister(UUID id, boolean drop) {
        return pool.withTransaction(tx -> repository.deleteReturning(tx, id).flatMap(deleted -> {
            Registration r = deleted.orElseThrow(() -> new RegistrationNotFoundException(id));
            if (drop && r.refreshMode() != RefreshMode.INCREMENTAL) {
                throw new InvalidInputException("drop=true drops an incremental view's table; "
                        + r.qualifiedName() + " is a materialized view, which matviews never drops");
            }
            return removeDependents(tx, r, dependents.stream().toList(), 0, new ArrayList<>())
                    .call(removed -> drop ? repository.dropTable(tx, r.schemaName(), r.viewName())
                            : Uni.createFrom().voidItem());
        }));
    }

    private static Uni<List<String>> removeDependents(SqlClient tx, Registration r, List<RegistrationDependents> all,
                                                      int next, List<String> removed) {
        if (next == all.size()) {
            return Uni.createFrom().item(removed);
        }
        return all.get(next).removeFor(tx, r).flatMap(names -> {
            removed.addAll(names);
            return removeDependents(tx, r, all, next + 1, removed);
        });
    }
}
