package dev.matviews.events;

import dev.matviews.alerts.Alert;
import dev.matviews.alerts.AlertRepository;
import dev.matviews.cascade.CascadeEvent;
import dev.matviews.cascade.CascadeRepository;
import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.ListenConnection;
import dev.matviews.runs.Run;
import dev.matviews.runs.RunRepository;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.smallrye.mutiny.subscription.BackPressureFailure;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Run and cascade lifecycle events from every replica. The statements that start and finish runs
 * and cascades NOTIFY them as committed; this instance LISTENs on its connection (outside the pool, reconnected
 * when lost; see ListenConnection) and fans the events out to its SSE clients. After a reconnect, whatever was missed
 * is read back from the run and cascade tables (their event ids come from one sequence).
 */
@ApplicationScoped
public class RunEvents {

    private static final Logger LOG = Logger.getLogger(RunEvents.class);
    static final int REPLAY_LIMIT = 1000;

    private final Pool pool;
    private final RunRepository runs;
    private final CascadeRepository cascades;
    private final AlertRepository alerts;
    /** Replaced (and the old one failed with ResyncRequired) when events were lost for everyone. */
    private final AtomicReference<BroadcastProcessor<StreamEvent>> live = new AtomicReference<>(BroadcastProcessor.create());
    private final AtomicLong lastSeen = new AtomicLong();
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, AtomicInteger> perPrincipal = new ConcurrentHashMap<>();
    private final ListenConnection listen;
    private final MatviewsConfig.Events config;

    public RunEvents(Pool pool, RunRepository runs, CascadeRepository cascades, AlertRepository alerts,
                     ListenConnection listen, MatviewsConfig config) {
        this.alerts = alerts;
        this.pool = pool;
        this.runs = runs;
        this.cascades = cascades;
        this.listen = listen;
        this.config = config.events();
    }

    void start(@Observes StartupEvent event) {
        listen.listen(RunRepository.CHANNEL, this::catchUp, this::onNotification);
    }

    /** Ends every stream when shutdown begins, so that clients resume on another replica at once. */
    void endStreams(@Observes ShutdownDelayInitiatedEvent event) {
        live.get().onComplete();
    }

    void endStreamsAtShutdown(@Observes ShutdownEvent event) {
        live.get().onComplete();
    }

    /**
     * Live events; with {@code lastEventId}, first every run and cascade changed since then,
     * without gaps or repeats. Each stream holds at most matviews.events.buffer events its client has not read;
     * beyond that, or when more than {@value #REPLAY_LIMIT} changed since lastEventId, it
     * fails with {@link ResyncRequired}. Counts against matviews.events.max-streams from this call
     * until the stream ends.
     *
     * @throws TooManyStreamsException when this instance already serves its maximum
     */
    public Multi<StreamEvent> stream(Long lastEventId) {
        return stream(lastEventId, "?");
    }

    /** As {@link #stream(Long)}, counted against {@code principal}'s share as well. */
    public Multi<StreamEvent> stream(Long lastEventId, String principal) {
        int max = config.maxStreams();
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            throw new TooManyStreamsException(max);
        }
        AtomicInteger mine = perPrincipal.computeIfAbsent(principal, k -> new AtomicInteger());
        if (mine.incrementAndGet() > config.maxStreamsPerPrincipal()) {
            releaseShare(principal, mine);
            open.decrementAndGet();
            throw TooManyStreamsException.perPrincipal(config.maxStreamsPerPrincipal());
        }
        AtomicBoolean closed = new AtomicBoolean();
        Runnable release = () -> {
            if (closed.compareAndSet(false, true)) {
                releaseShare(principal, mine);
                open.decrementAndGet();
            }
        };
        Multi<StreamEvent> events = lastEventId == null
                ? live.get().onOverflow().buffer(config.buffer())
                : resumed(lastEventId);
        return events
                .onFailure(BackPressureFailure.class).transform(e -> new ResyncRequired("this client fell more than "
                        + config.buffer() + " events behind", lastSeen.get()))
                .onFailure(ResyncRequired.class).invoke(e -> LOG.infof("ended an event stream: %s", e.getMessage()))
                .onTermination().invoke(release);
    }

    public int openStreams() {
        return open.get();
    }

    /** Streams {@code principal} holds open on this instance. */
    public int openStreams(String principal) {
        AtomicInteger count = perPrincipal.get(principal);
        return count == null ? 0 : count.get();
    }

    /** Gives a stream's share back; the entry goes once nobody holds one, so the map stays small. */
    private void releaseShare(String principal, AtomicInteger count) {
        if (count.decrementAndGet() <= 0) {
            perPrincipal.remove(principal, count);
        }
    }

    private Multi<StreamEvent> resumed(long lastEventId) {
        return Multi.createFrom().deferred(() -> {
            // Listen before reading history, so nothing committed in between is lost; the
            // queue is bounded like a live stream's buffer.
            UnicastProcessor<StreamEvent> buffered = UnicastProcessor.create(new ArrayBlockingQueue<>(config.buffer()), null);
            Cancellable subscription = live.get().subscribe().with(buffered::onNext, buffered::onError, buffered::onComplete);
            Set<Long> replayed = new HashSet<>();
            Multi<StreamEvent> history = changedSince(lastEventId)
                    .invoke(changed -> {
                        if (changed.size() > REPLAY_LIMIT) {
                            throw new ResyncRequired("more than " + REPLAY_LIMIT + " runs and cascades changed since"
                                    + " event " + lastEventId, Math.max(lastSeen.get(),
                                    changed.get(changed.size() - 1).eventId()));
                        }
                    })
                    .toMulti()
                    .onItem().<StreamEvent>disjoint()
                    .invoke(event -> replayed.add(event.eventId()));
            // The processor delivers its overflow only after its queue drained, which a stalled
            // client never lets happen; the overflow operator behind it takes everything at once
            // and fails as soon as its own buffer is full, as on a live stream.
            Multi<StreamEvent> after = buffered.select().where(event -> !replayed.contains(event.eventId()))
                    .onOverflow().buffer(config.buffer());
            return Multi.createBy().concatenating().streams(history, after)
                    .onTermination().invoke(subscription::cancel);
        });
    }

    /** Runs and cascades changed after {@code eventId}, merged in event order, at most REPLAY_LIMIT + 1. */
    private io.smallrye.mutiny.Uni<List<StreamEvent>> changedSince(long eventId) {
        return runs.changedSince(pool, eventId, REPLAY_LIMIT + 1)
                .flatMap(changedRuns -> cascades.changedSince(pool, eventId, REPLAY_LIMIT + 1)
                        .flatMap(changedCascades -> alerts.changedSince(pool, eventId, REPLAY_LIMIT + 1).map(raised -> {
                    List<StreamEvent> merged = new ArrayList<>(changedRuns.size() + changedCascades.size() + raised.size());
                    changedRuns.forEach(run -> merged.add(new StreamEvent.RunChanged(run)));
                    changedCascades.forEach(c -> merged.add(new StreamEvent.CascadeChanged(c)));
                    raised.forEach(a -> merged.add(new StreamEvent.AlertRaised(a)));
                    merged.sort(Comparator.comparingLong(StreamEvent::eventId));
                    return merged.size() > REPLAY_LIMIT + 1 ? merged.subList(0, REPLAY_LIMIT + 1) : merged;
                })));
    }

    private io.smallrye.mutiny.Uni<Long> latestEventId() {
        return runs.latestEventId(pool).flatMap(run -> cascades.latestEventId(pool).map(c -> Math.max(run, c)))
                .flatMap(latest -> alerts.latestEventId(pool).map(a -> Math.max(latest, a)));
    }

    private void onNotification(String payload) {
        try {
            JsonObject json = new JsonObject(payload);
            StreamEvent event = json.containsKey("cascade")
                    ? new StreamEvent.CascadeChanged(CascadeEvent.fromJson(json.getJsonObject("cascade")))
                    : json.containsKey("alert") ? new StreamEvent.AlertRaised(Alert.fromJson(json.getJsonObject("alert")))
                    : new StreamEvent.RunChanged(Run.fromJson(json.getJsonObject("run")));
            lastSeen.accumulateAndGet(event.eventId(), Math::max);
            live.get().onNext(event);
        } catch (RuntimeException e) {
            LOG.warnf("ignored a malformed event: %s", e.getMessage());
        }
    }

    /**
     * On every (re)connect: deliver what was committed while this instance was not listening.
     * If that is more than the replay limit, every open stream is told to resynchronise instead.
     */
    private void catchUp() {
        long since = lastSeen.get();
        if (since == 0) {
            latestEventId().subscribe().with(
                    latest -> lastSeen.accumulateAndGet(latest, Math::max),
                    e -> LOG.debugf("could not read the latest event: %s", e.getMessage()));
            return;
        }
        changedSince(since).subscribe().with(
                missed -> {
                    if (missed.size() > REPLAY_LIMIT) {
                        latestEventId().subscribe().with(latest -> {
                            lastSeen.accumulateAndGet(latest, Math::max);
                            live.getAndSet(BroadcastProcessor.create()).onError(new ResyncRequired("more than "
                                    + REPLAY_LIMIT + " runs and cascades changed while this instance was not"
                                    + " listening", latest));
                        }, e -> LOG.warnf("could not read the latest event: %s", e.getMessage()));
                        return;
                    }
                    missed.forEach(event -> {
                        if (lastSeen.get() < event.eventId()) {
                            lastSeen.set(event.eventId());
                            live.get().onNext(event);
                        }
                    });
                },
                e -> LOG.warnf("could not replay missed events: %s", e.getMessage()));
    }
}
