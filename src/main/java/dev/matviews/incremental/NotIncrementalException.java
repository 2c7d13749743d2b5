package dev.matviews.incremental;

import dev.matviews.problem.MatviewsException;

import java.util.List;

/** A definition registered as incremental that cannot be maintained so: explain's reasons, each named. */
public final class NotIncrementalException extends MatviewsException {
    public NotIncrementalException(List<String> reasons) {
        super("definition cannot be maintained incrementally: " + String.join("; ", reasons)
                + " (POST /api/admin/matviews/explain tells the same)");
    }
}
