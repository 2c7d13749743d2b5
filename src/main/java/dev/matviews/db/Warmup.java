package dev.matviews.db;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Something the first requests after a start would otherwise pay for: statements to prepare on
 * each pooled connection, or code to run once so that it is compiled. {@link StartupWarmup} runs
 * every implementation before the instance reports ready and before its scheduler claims a job.
 * Nothing a warm-up runs may change data.
 */
public interface Warmup {

    /** Prepares this feature's hot statements on {@code conn}, changing nothing. */
    default Uni<Void> warm(SqlConnection conn) {
        return Uni.createFrom().voidItem();
    }

    /** Runs this feature's hot code paths once, in memory only (on a worker thread). */
    default void warmCode() {
    }
}
