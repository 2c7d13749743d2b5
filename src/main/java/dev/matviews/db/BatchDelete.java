package dev.matviews.db;

import io.smallrye.mutiny.Uni;

import java.util.function.Supplier;

/** Retention deletes: one short statement per batch, so writers never wait long on a delete. */
public final class BatchDelete {

    private BatchDelete() {
    }

    /** Runs {@code batchDelete} until it deletes fewer than {@code batch} rows; returns the total. */
    public static Uni<Long> untilDone(Supplier<Uni<Integer>> batchDelete, int batch) {
        return next(batchDelete, batch, 0);
    }

    private static Uni<Long> next(Supplier<Uni<Integer>> batchDelete, int batch, long soFar) {
        return batchDelete.get().flatMap(deleted -> deleted < batch
                ? Uni.createFrom().item(soFar + deleted)
                : next(batchDelete, batch, soFar + deleted));
    }
}
