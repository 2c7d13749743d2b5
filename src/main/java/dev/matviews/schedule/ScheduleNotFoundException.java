package dev.matviews.schedule;

import dev.matviews.problem.MatviewsException;

public final class ScheduleNotFoundException extends MatviewsException {
    public ScheduleNotFoundException(String what) {
        super(what);
    }
}
