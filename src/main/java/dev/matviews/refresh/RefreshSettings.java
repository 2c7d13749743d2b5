package dev.matviews.refresh;

/** Session settings for one refresh, in milliseconds; 0 means no limit. */
record RefreshSettings(int statementTimeoutMs, int lockTimeoutMs, int connectionCheckIntervalMs) {
}
