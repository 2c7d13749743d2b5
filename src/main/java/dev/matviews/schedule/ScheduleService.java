package dev.matviews.schedule;

import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistryService;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Schedules, validated in full when created or changed: a schedule that is stored can run.
 * Also the per-view convenience: one refresh schedule per registration, removed with it.
 */
@ApplicationScoped
public class ScheduleService {

    private final Pool pool;
    private final ScheduleRepository schedules;
    private final RegistryService registry;
    private final JobScheduler scheduler;

    public ScheduleService(Pool pool, ScheduleRepository schedules, RegistryService registry, JobScheduler scheduler) {
        this.pool = pool;
        this.schedules = schedules;
        this.registry = registry;
        this.scheduler = scheduler;
    }

    public Uni<List<Schedule>> list() {
        return schedules.list(pool);
    }

    public Uni<Schedule> get(UUID id) {
        return schedules.findById(pool, id).map(found -> found.orElseThrow(() -> notFound(id)));
    }

    public Uni<Schedule> create(ScheduleRequest request) {
        return Uni.createFrom().deferred(() -> {
            Validated v = validate(request, null);
            return schedules.databaseNow(pool).flatMap(now -> schedules.insert(pool, v.fields(now)))
                    .map(created -> created.orElseThrow(() -> new ScheduleNameTakenException(v.name)));
        });
    }

    /** Changes the given fields and keeps the rest; the next run is planned again from now. */
    public Uni<Schedule> update(UUID id, ScheduleRequest request) {
        return get(id).flatMap(current -> {
            Validated v = validate(request, current);
            return schedules.databaseNow(pool).flatMap(now -> schedules.replace(pool, id, v.fields(now)))
                    .map(updated -> updated.orElseThrow(() -> notFound(id)));
        }).onFailure(ScheduleService::uniqueViolation).transform(e -> new ScheduleNameTakenException(request.name()));
    }

    public Uni<Schedule> setEnabled(UUID id, boolean enabled) {
        return update(id, new ScheduleRequest(null, null, null, null, null, enabled, null, null, null));
    }

    public Uni<Void> delete(UUID id) {
        return schedules.delete(pool, id).map(deleted -> {
            if (!deleted) {
                throw notFound(id);
            }
            return null;
        });
    }

    /** Creates or replaces the refresh schedule of a registered view. */
    public Uni<Schedule> scheduleView(UUID registrationId, ScheduleRequest request) {
        return registry.get(registrationId).flatMap(r -> {
            String name = viewScheduleName(r);
            ScheduleRequest full = request.forView(name, Map.of("schema", r.schemaName(), "view_name", r.viewName()));
            if (request.cronExpr() == null) {
                throw new InvalidInputException("cronExpr is required");
            }
            return schedules.findByName(pool, name).flatMap(existing -> existing.isPresent()
                    ? update(existing.get().id(), full)
                    : create(full));
        });
    }

    public Uni<Void> unscheduleView(UUID registrationId) {
        return registry.get(registrationId).flatMap(r -> schedules.deleteForView(pool, r.schemaName(), r.viewName()))
                .map(names -> {
                    if (names.isEmpty()) {
                        throw new ScheduleNotFoundException("materialized view " + registrationId + " has no schedule");
                    }
                    return null;
                });
    }

    public static String viewScheduleName(Registration r) {
        return "matview-refresh:" + r.schemaName() + "." + r.viewName();
    }

    private record Validated(String name, String jobType, JsonObject payload, CronSchedule cron, boolean enabled,
                             int maxAttempts, int maxRuntimeMs, MissedRunPolicy missedRunPolicy) {
        ScheduleRepository.Fields fields(Instant now) {
            Instant next = enabled ? cron.nextAfter(now, now).orElse(null) : null;
            return new ScheduleRepository.Fields(name, jobType, payload, cron.expression(), cron.zone().getId(), enabled,
                    maxAttempts, maxRuntimeMs, missedRunPolicy, next);
        }
    }

    /** Completes a request with the current schedule's or the default values; limits were checked already. */
    private Validated validate(ScheduleRequest r, Schedule current) {
        String name = pick(r.name(), current == null ? null : current.name());
        if (name == null || name.isBlank()) {
            throw new InvalidInputException("name is required");
        }
        String jobType = pick(r.jobType(), current == null ? null : current.jobType());
        if (jobType == null) {
            throw new InvalidInputException("jobType is required");
        }
        JobHandler handler = scheduler.handler(jobType);
        if (handler == null) {
            throw new InvalidInputException("unknown jobType '" + jobType + "'; known: " + ScheduleRepository.MATVIEW_JOB);
        }
        JsonObject payload;
        if (r.payload() != null) {
            payload = new JsonObject(r.payload());
        } else {
            payload = current == null ? new JsonObject() : new JsonObject(current.payload());
        }
        handler.validate(payload);
        String cronExpr = pick(r.cronExpr(), current == null ? null : current.cronExpr());
        String timezone = pick(r.timezone(), current == null ? null : current.timezone());
        CronSchedule cron = CronSchedule.parse(cronExpr, timezone);
        int maxAttempts = pick(r.maxAttempts(), current == null ? 3 : current.maxAttempts());
        int maxRuntimeMs = pick(r.maxRuntimeMs(), current == null ? 3_600_000 : current.maxRuntimeMs());
        MissedRunPolicy policy = r.missedRunPolicy() != null ? MissedRunPolicy.parse(r.missedRunPolicy())
                : current == null ? MissedRunPolicy.RUN_ONCE : current.missedRunPolicy();
        boolean enabled = pick(r.enabled(), current == null || current.enabled());
        return new Validated(name, jobType, payload, cron, enabled, maxAttempts, maxRuntimeMs, policy);
    }

    private static <T> T pick(T given, T fallback) {
        return given != null ? given : fallback;
    }

    private static boolean uniqueViolation(Throwable e) {
        return e instanceof PgException pg && "23505".equals(pg.getSqlState());
    }

    private static ScheduleNotFoundException notFound(UUID id) {
        return new ScheduleNotFoundException("no schedule with id " + id);
    }

}
