package dev.matviews.schedule;

import dev.matviews.problem.MatviewsException;

public final class ScheduleNameTakenException extends MatviewsException {
    public ScheduleNameTakenException(String name) {
        super("a schedule named '" + name + "' already exists");
    }
}
