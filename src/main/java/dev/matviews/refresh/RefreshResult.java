package dev.matviews.refresh;

import dev.matviews.registry.Registration;

/** A successful refresh: the registration as stored after the status write, and how long REFRESH took. */
public record RefreshResult(Registration registration, long durationMs) {
}
