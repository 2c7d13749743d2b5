package dev.matviews.runs;

import dev.matviews.problem.InvalidInputException;
import dev.matviews.registry.RegistrationNotFoundException;
import dev.matviews.registry.RegistrationRepository;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/** Reading run history and cancelling runs, whichever instance runs them. */
@ApplicationScoped
public class RunService {

    public static final int MAX_LIMIT = 200;

    private final Pool pool;
    private final RunRepository runs;
    private final RegistrationRepository registrations;

    public RunService(Pool pool, RunRepository runs, RegistrationRepository registrations) {
        this.pool = pool;
        this.runs = runs;
        this.registrations = registrations;
    }

    public Uni<Run> get(UUID runId) {
        return runs.findById(pool, runId).map(found -> found.orElseThrow(() -> new RunNotFoundException(runId)));
    }

    /** A page of a registration's runs; 404 only for an id that is neither registered nor in the history. */
    public Uni<RunPage> history(UUID registrationId, String status, String cursor, Integer limit) {
        return Uni.createFrom().deferred(() -> {
            RunStatus wanted = status == null || status.isEmpty() ? null : RunStatus.parse(status);
            RunRepository.RunCursor after = cursor == null || cursor.isEmpty() ? null : decode(cursor);
            int size = limit == null ? 50 : limit;
            if (size < 1 || size > MAX_LIMIT) {
                throw new InvalidInputException("limit must be between 1 and " + MAX_LIMIT + ", got " + size);
            }
            return runs.page(pool, registrationId, wanted, after, size + 1).flatMap(found -> {
                if (!found.isEmpty() || after != null) {
                    return Uni.createFrom().item(page(found, size));
                }
                return registrations.findById(pool, registrationId).map(reg -> {
                    if (reg.isEmpty()) {
                        throw new RegistrationNotFoundException(registrationId);
                    }
                    return page(found, size);
                });
            });
        });
    }

    /** Asks for a running run to stop; answers with the run as it was when asked. */
    public static final int WINDOW_LIMIT_DEFAULT = 2000;
    public static final int WINDOW_LIMIT_MAX = 10000;
    public static final Duration WINDOW_MAX = Duration.ofDays(7);

    /**
     * The runs of every view that overlap {@code [from, to)} (default: the last hour), oldest start
     * first: what the console's timeline draws.
     */
    public Uni<RunWindow> window(OffsetDateTime from, OffsetDateTime to, Integer limit) {
        return Uni.createFrom().deferred(() -> {
            OffsetDateTime end = to != null ? to : OffsetDateTime.now(ZoneOffset.UTC);
            OffsetDateTime start = from != null ? from : end.minusHours(1);
            if (!start.isBefore(end)) {
                throw new InvalidInputException("from must be before to, got " + start + " and " + end);
            }
            if (Duration.between(start, end).compareTo(WINDOW_MAX) > 0) {
                throw new InvalidInputException("the window may span at most " + WINDOW_MAX.toDays() + " days");
            }
            int size = limit == null ? WINDOW_LIMIT_DEFAULT : limit;
            if (size < 1 || size > WINDOW_LIMIT_MAX) {
                throw new InvalidInputException("limit must be between 1 and " + WINDOW_LIMIT_MAX + ", got " + size);
            }
            return runs.window(pool, start, end, size + 1).map(found -> new RunWindow(start, end,
                    found.size() > size ? found.subList(0, size) : found, found.size() > size));
        });
    }

    public Uni<Run> cancel(UUID runId) {
        return runs.requestCancel(pool, runId).map(found -> {
            RunRepository.CancelResult result = found.orElseThrow(() -> new RunNotFoundException(runId));
            if (result.run().finished()) {
                throw new RunFinishedException(result.run());
            }
            return result.run();
        });
    }

    private static RunPage page(List<Run> found, int size) {
        if (found.size() <= size) {
            return new RunPage(found, found.size(), null);
        }
        List<Run> items = found.subList(0, size);
        Run last = items.get(size - 1);
        return new RunPage(items, size, encode(last));
    }

    /** Opaque to clients: the keyset position (start time in microseconds, run id) of the last item. */
    static String encode(Run run) {
        Instant at = run.startedAt().toInstant();
        long micros = at.getEpochSecond() * 1_000_000 + at.getNano() / 1_000;
        String raw = micros + ":" + run.id();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.US_ASCII));
    }

    /** 9999-12-31: later instants cannot be a run's start, and PostgreSQL's range ends soon after. */
    private static final long MAX_CURSOR_MICROS = 253_402_300_799_000_000L;

    static RunRepository.RunCursor decode(String cursor) {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
            int colon = raw.indexOf(':');
            long micros = Long.parseLong(raw.substring(0, colon));
            if (micros < 0 || micros > MAX_CURSOR_MICROS) {
                throw new IllegalArgumentException("outside the years a run can have");
            }
            Instant at = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1_000);
            return new RunRepository.RunCursor(OffsetDateTime.ofInstant(at, ZoneOffset.UTC),
                    UUID.fromString(raw.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new InvalidInputException("cursor is not one this service gave out");
        }
    }
}
