package dev.matviews.runs;

import dev.matviews.problem.MatviewsException;

/** Cancelling a run that already ended. */
public final class RunFinishedException extends MatviewsException {
    public RunFinishedException(Run run) {
        super("run " + run.id() + " already finished with status " + run.status().dbName());
        withRun(run.id());
    }
}
