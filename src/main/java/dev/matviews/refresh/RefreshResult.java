package dev.matviews.refresh;

import dev.matviews.registry.Registration;

import java.util.UUID;

/**
 * A successful refresh: the registration as stored after the status write, its run, and how long
 * REFRESH took; or a skip (skipUnchanged, nothing changed): its skipped run, and why.
 */
public record RefreshResult(Registration registration, UUID runId, long durationMs, String skipped) {
}
