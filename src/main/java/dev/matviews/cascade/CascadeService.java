package dev.matviews.cascade;

import dev.matviews.runs.RunStatus;
import dev.matviews.config.Limits;
import dev.matviews.catalog.CatalogService;
import dev.matviews.config.InstanceId;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.BatchDelete;
import dev.matviews.problem.InvalidInputException;
import dev.matviews.refresh.RefreshFailure;
import dev.matviews.refresh.RefreshOutcome;
import dev.matviews.refresh.RefreshService;
import dev.matviews.registry.Identifiers;
import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistryService;
import dev.matviews.runs.RunService;
import dev.matviews.runs.Trigger;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cascading refreshes: the plan comes from the dependency graph; each node is an ordinary refresh
 * (the view's advisory lock, its run with trigger cascade and this cascade's id), started once
 * every parent of the plan has succeeded, at most {@code parallelism} at a time. A failed node
 * takes its descendants with it (each gets a skipped run naming the failure); other branches go
 * on. The instance that started a cascade coordinates it; any instance shows and cancels it.
 */
@ApplicationScoped
public class CascadeService {

    private static final Logger LOG = Logger.getLogger(CascadeService.class);
    private static final Duration FIRST_BUSY_RETRY = Duration.ofMillis(100);
    private static final Duration MAX_BUSY_RETRY = Duration.ofSeconds(2);

    private final Pool pool;
    private final CascadeRepository repository;
    private final CatalogService catalog;
    private final RegistryService registry;
    private final RefreshService refreshes;
    private final RunService runs;
    private final MatviewsConfig.Cascade config;
    private final String instanceId;
    private final Vertx vertx;
    /** Cascades this instance coordinates, by id. */
    private final Map<UUID, Execution> coordinating = new ConcurrentHashMap<>();

    public CascadeService(Pool pool, CascadeRepository repository, CatalogService catalog, RegistryService registry,
                          RefreshService refreshes, RunService runs, MatviewsConfig config, InstanceId instanceId,
                          Vertx vertx) {
        this.pool = pool;
        this.repository = repository;
        this.catalog = catalog;
        this.registry = registry;
        this.refreshes = refreshes;
        this.runs = runs;
        this.config = config.cascade();
        this.instanceId = instanceId.value();
        this.vertx = vertx;
    }

    void startRenewing(@Observes StartupEvent event) {
        long every = Math.max(100, config.lease().toMillis() / 3);
        vertx.setPeriodic(every, every, t -> renewLeases());
    }

    /** What the caller asked for: null parallelism or onBusy take the configured defaults. */
    public record Options(Integer parallelism, String onBusy) {
        public static final Options DEFAULTS = new Options(null, null);
    }

    /**
     * A cascade to start: from a registered view (DOWNSTREAM or UPSTREAM), or over every registered
     * view (ALL, root null), optionally only those of {@code schemaName}; {@code jobId} names the
     * job that starts it, if any. With {@code freshAsOf}, views other than the root whose data is
     * as of that instant or later are left out: read as they are (a freshness target's job).
     */
    public record Request(CascadePlan.Direction direction, UUID root, String schemaName, Trigger trigger,
                          Options options, UUID jobId, OffsetDateTime freshAsOf) {
        public Request(CascadePlan.Direction direction, UUID root, String schemaName, Trigger trigger, Options options,
                       UUID jobId) {
            this(direction, root, schemaName, trigger, options, jobId, null);
        }
    }

    /** A started cascade: its id at once, its outcome when every node has ended. */
    public record Started(UUID id, Uni<Cascade> finished) {
    }

    public Uni<Started> start(CascadePlan.Direction direction, UUID root, Trigger trigger, Options options) {
        return start(new Request(direction, root, null, trigger, options, null));
    }

    /** Plans and starts a cascade; the instance that starts it coordinates it. */
    public Uni<Started> start(Request request) {
        return Uni.createFrom().deferred(() -> {
            Options options = request.options();
            int parallelism = options.parallelism() == null ? config.parallelism() : options.parallelism();
            if (!Limits.parallelismAllowed(parallelism)) {
                throw new InvalidInputException("parallelism must be between " + Limits.PARALLELISM_MIN + " and "
                        + Limits.PARALLELISM_MAX + ", got " + parallelism);
            }
            OnBusy onBusy = OnBusy.parse(options.onBusy() == null ? config.onBusy() : options.onBusy());
            if (request.schemaName() != null) {
                Identifiers.require("schema", request.schemaName());
            }
            UUID root = request.root();
            Uni<Registration> rootRegistration = root == null ? Uni.createFrom().nullItem() : registry.get(root);
            return rootRegistration
                    .flatMap(r -> r == null ? catalog.graph() : catalog.graphAround(r))
                    .map(graph -> CascadePlan.of(graph, request.direction(), root, request.schemaName()))
                    .flatMap(plan -> leaveOut(plan, request))
                    .flatMap(plan -> repository.insert(pool, new CascadeRepository.NewCascade(request.direction(),
                                    root, request.schemaName(), request.trigger().dbName(), instanceId, parallelism,
                                    onBusy, plan, request.jobId(), config.lease()))
                            .map(id -> {
                                Execution execution = new Execution(id, plan, parallelism, onBusy == OnBusy.WAIT);
                                coordinating.put(id, execution);
                                execution.pump();
                                // A subscriber that leaves must not complete the execution's future.
                                Uni<Cascade> finished = Uni.createFrom().<Void>emitter(emitter ->
                                                execution.finished.whenComplete((v, e) -> emitter.complete(null)))
                                        .flatMap(ignored -> get(id));
                                return new Started(id, finished);
                            }));
        });
    }

    /**
     * The plan without the views other than the root that a scheduled cascade does not refresh:
     * suspended ones (a reader resumed on its own still reads them as they are), and with
     * {@code freshAsOf} those whose data is that recent.
     */
    private Uni<CascadePlan> leaveOut(CascadePlan plan, Request request) {
        boolean scheduled = request.trigger() == Trigger.SCHEDULE;
        if (!scheduled && request.freshAsOf() == null) {
            return Uni.createFrom().item(plan);
        }
        List<UUID> others = plan.nodes().stream().map(CascadePlan.Node::registrationId)
                .filter(id -> !id.equals(request.root())).toList();
        return others.isEmpty() ? Uni.createFrom().item(plan)
                : repository.leftOut(pool, others, request.freshAsOf(), scheduled).map(plan::without);
    }

    public Uni<Cascade> get(UUID id) {
        return repository.find(pool, id).map(found -> found.orElseThrow(() -> new CascadeNotFoundException(id)));
    }

    /**
     * Cancels a cascade wherever it runs: marked in its row, its running nodes' runs cancelled
     * (which works across replicas); the coordinator then starts nothing more.
     */
    public Uni<Cascade> cancel(UUID id) {
        return repository.requestCancel(pool, id).flatMap(found -> {
            String[] state = found.orElseThrow(() -> new CascadeNotFoundException(id));
            if (!CascadeStatus.RUNNING.is(state[0])) {
                throw new CascadeFinishedException(id, state[0]);
            }
            Execution local = coordinating.get(id);
            if (local != null) {
                local.cancel();
            }
            // Read after the cancels, so the answer shows the nodes they ended.
            return get(id).flatMap(this::cancelRunning).flatMap(ignored -> get(id));
        });
    }

    /** The synchronous caller of a cascade went away: the cascade is cancelled (logged, never thrown). */
    public void cancelForGoneCaller(UUID id) {
        LOG.infof("cascade %s: its caller went away; cancelling it", id);
        cancel(id).subscribe().with(c -> { }, e -> LOG.debugf("cascade %s: cancel after its caller left: %s", id,
                e.getMessage()));
    }

    /** Cancels every running cascade that the job started (a job cancelled while its cascade runs). */
    public Uni<Void> cancelOfJob(UUID jobId) {
        return repository.requestCancelOfJob(pool, jobId).flatMap(ids -> {
            List<Uni<Void>> cancels = ids.stream().map(id -> {
                Execution local = coordinating.get(id);
                if (local != null) {
                    local.cancel();
                }
                return get(id).flatMap(this::cancelRunning);
            }).toList();
            return cancels.isEmpty() ? Uni.createFrom().voidItem()
                    : Uni.join().all(cancels).andCollectFailures().replaceWithVoid();
        });
    }

    private Uni<Void> cancelRunning(Cascade cascade) {
        List<Uni<Void>> cancels = cascade.nodes().stream().filter(n -> RunStatus.RUNNING.dbName().equals(n.status()))
                .map(n -> runs.cancel(n.runId()).replaceWithVoid()
                        .onFailure().invoke(e -> LOG.debugf("cancel of run %s: %s", n.runId(), e.getMessage()))
                        .onFailure().recoverWithNull())
                .toList();
        return cancels.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(cancels).andCollectFailures().replaceWithVoid();
    }

    /**
     * Keeps the leases of the cascades this instance coordinates, and learns of cancels requested
     * elsewhere. A cascade missing from the answer was marked abandoned meanwhile (this instance
     * stalled past its lease): it starts nothing more, as if cancelled.
     */
    void renewLeases() {
        if (coordinating.isEmpty()) {
            return;
        }
        List<UUID> ids = List.copyOf(coordinating.keySet());
        repository.renew(pool, ids, config.lease()).subscribe().with(running -> {
            for (UUID id : ids) {
                Execution execution = coordinating.get(id);
                if (execution == null) {
                    continue;
                }
                Boolean cancelRequested = running.get(id);
                if (cancelRequested == null) {
                    LOG.warnf("cascade %s was marked abandoned (its lease ran out); starting none of its other nodes",
                            id);
                    execution.stop("not refreshed: cascade " + id + " was abandoned (its instance stalled past its lease)");
                } else if (cancelRequested && execution.cancel()) {
                    get(id).flatMap(this::cancelRunning).subscribe().with(ok -> { },
                            e -> LOG.debugf("cascade %s: cancelling its running nodes failed: %s", id, e.getMessage()));
                }
            }
        }, e -> LOG.warnf("could not renew the leases of %d cascade(s): %s", ids.size(), e.getMessage()));
    }

    /** Marks abandoned the cascades whose coordinator is gone; how many. */
    public Uni<Integer> abandonExpired() {
        return repository.abandonExpired(pool).map(ids -> {
            if (!ids.isEmpty()) {
                LOG.infof("marked %d cascade(s) abandoned: their instance stopped renewing their lease: %s",
                        ids.size(), ids);
            }
            return ids.size();
        });
    }

    /** Deletes cascades that ended longer ago than {@code maxAge}, in batches; how many. */
    public Uni<Long> deleteOlderThan(Duration maxAge, int batch) {
        return BatchDelete.untilDone(() -> repository.deleteOlderThan(pool, maxAge, batch), batch);
    }

    /** Cascades this instance coordinates now. */
    public int coordinatingCount() {
        return coordinating.size();
    }

    /** The state of one cascade on its coordinator; every change holds the lock of this object. */
    private final class Execution {
        final UUID id;
        final CascadePlan plan;
        final int parallelism;
        final boolean waitWhenBusy;
        final long busyDeadline;
        final Map<UUID, CascadePlan.Node> nodes = new HashMap<>();
        final Map<UUID, Integer> waitingFor = new HashMap<>();
        final Map<UUID, List<UUID>> unblocks = new HashMap<>();
        final Deque<UUID> ready = new ArrayDeque<>();
        final Set<UUID> ended = new HashSet<>();
        final Map<UUID, Integer> busyAttempts = new HashMap<>();
        final CompletableFuture<Void> finished = new CompletableFuture<>();
        int running;
        int writing;
        boolean failed;
        boolean cancelled;
        /** Why nodes not started yet are skipped once it is cancelled. */
        String stopReason;
        boolean ending;

        Execution(UUID id, CascadePlan plan, int parallelism, boolean waitWhenBusy) {
            this.id = id;
            this.plan = plan;
            this.parallelism = parallelism;
            this.waitWhenBusy = waitWhenBusy;
            this.busyDeadline = System.nanoTime() + config.busyWait().toNanos();
            for (CascadePlan.Node n : plan.nodes()) {
                nodes.put(n.registrationId(), n);
                waitingFor.put(n.registrationId(), n.after().size());
                n.after().forEach(p -> unblocks.computeIfAbsent(p, k -> new java.util.ArrayList<>()).add(n.registrationId()));
                if (n.after().isEmpty()) {
                    ready.add(n.registrationId());
                }
            }
        }

        /** How a node that did not succeed ended: its view busy elsewhere, this instance full, or failed. */
        private enum NodeEnd { BUSY, FULL, FAILED }

        /** Starts what may start; ends the cascade when nothing runs or can run any more. */
        synchronized void pump() {
            while (!cancelled && running < parallelism && !ready.isEmpty()) {
                UUID node = ready.poll();
                running++;
                refreshes.launchInCascade(node, id).done().subscribe().with(
                        outcome -> outcome.match(
                                refreshed -> succeeded(node),
                                unchanged -> succeeded(node),
                                busy -> settle(node, NodeEnd.BUSY, null),
                                notStarted -> notStarted.reason() == RefreshOutcome.Reason.CAPACITY
                                        ? settle(node, NodeEnd.FULL, null) : settle(node, NodeEnd.FAILED, null),
                                failed -> failed.failure().kind() == RefreshFailure.Kind.CANCELLED
                                        ? cancelledNode(node, failed.runId()) : settle(node, NodeEnd.FAILED, failed.runId())),
                        failure -> settle(node, NodeEnd.FAILED, null));
            }
            if (cancelled) {
                // Nothing pending starts; the nodes not started yet get a skipped run each.
                for (CascadePlan.Node n : plan.nodes()) {
                    if (!ended.contains(n.registrationId()) && !ready.contains(n.registrationId())
                            && waitingFor.getOrDefault(n.registrationId(), 0) > 0) {
                        skip(n.registrationId(), stopReason);
                    }
                }
                while (!ready.isEmpty()) {
                    skip(ready.poll(), stopReason);
                }
            }
            if (running == 0 && writing == 0 && ready.isEmpty() && (cancelled || ended.size() == nodes.size())) {
                end();
            }
        }

        private Void succeeded(UUID node) {
            synchronized (this) {
                running--;
                ended.add(node);
                for (UUID child : unblocks.getOrDefault(node, List.of())) {
                    if (!ended.contains(child) && waitingFor.merge(child, -1, Integer::sum) == 0) {
                        ready.add(child);
                    }
                }
            }
            pump();
            return null;
        }

        /**
         * A cancelled node may be the cascade's cancel, requested on another instance: learn that
         * before settling the node, which still counts as running meanwhile, so the cascade cannot
         * end in between as merely failed.
         */
        private Void cancelledNode(UUID node, UUID runId) {
            repository.cancelRequested(pool, id).subscribe().with(
                    requested -> {
                        if (requested) {
                            synchronized (this) {
                                markCancelled();
                            }
                        }
                        settle(node, NodeEnd.FAILED, runId);
                    },
                    e -> settle(node, NodeEnd.FAILED, runId));
            return null;
        }

        private Void settle(UUID node, NodeEnd end, UUID runId) {
            // A full instance is waited out like a busy view: the node has not started.
            boolean busy = end != NodeEnd.FAILED;
            if (busy && (waitWhenBusy || end == NodeEnd.FULL) && System.nanoTime() < busyDeadline) {
                Duration delay;
                synchronized (this) {
                    running--;
                    // 100 ms, doubling to 2 s: a long refresh elsewhere is polled gently.
                    int attempt = busyAttempts.merge(node, 1, Integer::sum);
                    delay = FIRST_BUSY_RETRY.multipliedBy(1L << Math.min(attempt - 1, 10));
                    delay = delay.compareTo(MAX_BUSY_RETRY) > 0 ? MAX_BUSY_RETRY : delay;
                }
                retryWhenFree(node, delay);
                return null;
            }
            String why = busy ? "was not refreshed (busy elsewhere)" : "failed";
            synchronized (this) {
                running--;
                failed = true;
                CascadePlan.Node n = nodes.get(node);
                String reason = cancelled ? stopReason : "not refreshed: upstream " + n.schemaName() + "."
                        + n.viewName() + " " + why + (runId == null ? "" : " (run " + runId + ")");
                for (UUID d : plan.descendantsOf(node)) {
                    if (!ended.contains(d)) {
                        ready.remove(d);
                        skip(d, reason);
                    }
                }
                if (busy) {
                    // It never started: its own skipped run says why.
                    skip(node, "not refreshed: " + n.schemaName() + "." + n.viewName() + " was being refreshed"
                            + " elsewhere" + (waitWhenBusy ? " for longer than " + config.busyWait() : ""));
                } else {
                    ended.add(node);
                }
            }
            pump();
            return null;
        }

        /** A busy view: tried again with backoff while the cascade is not cancelled (anywhere). */
        private void retryWhenFree(UUID node, Duration delay) {
            vertx.setTimer(delay.toMillis(), t -> repository.cancelRequested(pool, id).subscribe().with(
                    requested -> {
                        synchronized (this) {
                            if (requested) {
                                markCancelled();
                                skip(node, stopReason);
                            } else if (cancelled) {
                                skip(node, stopReason);
                            } else {
                                // Back to the head of the queue: its parents are done already.
                                ready.addFirst(node);
                            }
                        }
                        pump();
                    },
                    e -> {
                        synchronized (this) {
                            ready.addFirst(node);
                        }
                        pump();
                    }));
        }

        /** Records a skipped run for a node that will not run; guarded by this. */
        private void skip(UUID node, String reason) {
            if (!ended.add(node)) {
                return;
            }
            failed = true;
            writing++;
            refreshes.recordSkipped(node, Trigger.CASCADE, reason, id)
                    .subscribe().with(run -> written(), e -> {
                        LOG.warnf("cascade %s: could not record the skip of %s: %s", id, node, e.getMessage());
                        written();
                    });
        }

        private void written() {
            synchronized (this) {
                writing--;
            }
            pump();
        }

        /** Starts nothing more; true if this call is what cancelled it. */
        boolean cancel() {
            boolean first;
            synchronized (this) {
                first = !cancelled;
                markCancelled();
            }
            pump();
            return first;
        }

        /** Starts nothing more, and skips what has not started for {@code reason}. */
        void stop(String reason) {
            synchronized (this) {
                if (!cancelled) {
                    cancelled = true;
                    stopReason = reason;
                }
            }
            pump();
        }

        private void markCancelled() {
            if (!cancelled) {
                cancelled = true;
                stopReason = "not refreshed: cascade " + id + " was cancelled";
            }
        }

        /** Records the outcome, then lets the caller read it; guarded by this. */
        private void end() {
            if (ending) {
                return;
            }
            ending = true;
            CascadeStatus status = cancelled ? CascadeStatus.CANCELLED : failed ? CascadeStatus.FAILED
                    : CascadeStatus.SUCCESS;
            repository.finish(pool, id, status).subscribe().with(
                    ignored -> {
                        coordinating.remove(id);
                        finished.complete(null);
                    },
                    e -> {
                        LOG.warnf("cascade %s ended %s but could not be recorded: %s", id, status.dbName(), e.getMessage());
                        coordinating.remove(id);
                        finished.complete(null);
                    });
        }
    }
}
