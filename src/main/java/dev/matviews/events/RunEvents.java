package dev.matviews.events;

import dev.matviews.db.ListenConnection;
import dev.matviews.runs.Run;
import dev.matviews.runs.RunRepository;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Run lifecycle events from every replica. The statements that start and finish runs NOTIFY the
 * run as committed; this instance LISTENs on its connection (outside the pool, reconnected
 * when lost; see ListenConnection) and fans the events out to its SSE clients. After a reconnect, whatever was missed
 * is read back from the run table.
 */
@ApplicationScoped
public class RunEvents {

    private static final Logger LOG = Logger.getLogger(RunEvents.class);
    private static final int REPLAY_LIMIT = 1000;
    private static final int LIVE_BUFFER = 1024;

    private final Pool pool;
    private final RunRepository runs;
    private final BroadcastProcessor<Run> live = BroadcastProcessor.create();
    private final AtomicLong lastSeen = new AtomicLong();
    private final ListenConnection listen;

    public RunEvents(Pool pool, RunRepository runs, ListenConnection listen) {
        this.pool = pool;
        this.runs = runs;
        this.listen = listen;
    }

    void start(@Observes StartupEvent event) {
        listen.listen(RunRepository.CHANNEL, this::catchUp, this::onNotification);
    }

    /** Live events; with {@code lastEventId}, first every run changed since then, without gaps or repeats. */
    public Multi<Run> stream(Long lastEventId) {
        if (lastEventId == null) {
            // A client reads at its own pace; without a buffer, two events in quick succession
            // would end its stream. One that falls 1024 events behind is cut off and resumes
            // with Last-Event-ID.
            return live.onOverflow().buffer(LIVE_BUFFER);
        }
        return Multi.createFrom().deferred(() -> {
            // Listen before reading history, so nothing committed in between is lost.
            UnicastProcessor<Run> buffered = UnicastProcessor.create();
            Cancellable subscription = live.subscribe().with(buffered::onNext, buffered::onError, buffered::onComplete);
            Set<Long> replayed = new HashSet<>();
            Multi<Run> history = runs.changedSince(pool, lastEventId, REPLAY_LIMIT).toMulti()
                    .onItem().<Run>disjoint()
                    .invoke(run -> replayed.add(run.eventId()));
            return Multi.createBy().concatenating()
                    .streams(history, buffered.select().where(run -> !replayed.contains(run.eventId())))
                    .onTermination().invoke(subscription::cancel);
        });
    }

    private void onNotification(String payload) {
        try {
            Run run = Run.fromJson(new JsonObject(payload).getJsonObject("run"));
            lastSeen.accumulateAndGet(run.eventId(), Math::max);
            live.onNext(run);
        } catch (RuntimeException e) {
            LOG.warnf("ignored a malformed run event: %s", e.getMessage());
        }
    }

    /** On every (re)connect: deliver what was committed while this instance was not listening. */
    private void catchUp() {
        long since = lastSeen.get();
        if (since == 0) {
            runs.latestEventId(pool).subscribe().with(
                    latest -> lastSeen.accumulateAndGet(latest, Math::max),
                    e -> LOG.debugf("could not read the latest run event: %s", e.getMessage()));
            return;
        }
        runs.changedSince(pool, since, REPLAY_LIMIT).subscribe().with(
                missed -> missed.forEach(run -> {
                    if (lastSeen.get() < run.eventId()) {
                        lastSeen.set(run.eventId());
                        live.onNext(run);
                    }
                }),
                e -> LOG.warnf("could not replay missed run events: %s", e.getMessage()));
    }
}
