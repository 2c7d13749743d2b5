package dev.matviews.overview;

import dev.matviews.problem.InvalidInputException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** The overview, read in one connection (its four statements pipelined). */
@ApplicationScoped
public class OverviewService {

    public static final int DEFAULT_HOURS = 24;
    public static final int MAX_HOURS = 168;
    public static final int LIST_LIMIT = 50;

    private final Pool pool;
    private final OverviewRepository repository;

    public OverviewService(Pool pool, OverviewRepository repository) {
        this.pool = pool;
        this.repository = repository;
    }

    public Uni<Overview> overview(Integer hours) {
        return Uni.createFrom().deferred(() -> {
            int window = hours == null ? DEFAULT_HOURS : hours;
            if (window < 1 || window > MAX_HOURS) {
                throw new InvalidInputException("hours must be between 1 and " + MAX_HOURS + ", got " + window);
            }
            OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC);
            return pool.withConnection(c -> Uni.combine().all()
                    .unis(repository.counts(c), repository.attention(c, LIST_LIMIT),
                            repository.failures(c, window, LIST_LIMIT), repository.hours(c, window))
                    .asTuple())
                    .map(t -> {
                        Overview.Counts counts = t.getItem1();
                        return new Overview(at, window, counts, t.getItem2(),
                                counts.behindTarget() + counts.failing() + counts.suspended(),
                                t.getItem3().runs(), t.getItem3().total(), t.getItem4());
                    });
        });
    }
}
