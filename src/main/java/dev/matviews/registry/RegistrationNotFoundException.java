package dev.matviews.registry;

import dev.matviews.problem.MatviewsException;

import java.util.UUID;

public final class RegistrationNotFoundException extends MatviewsException {
    public RegistrationNotFoundException(UUID id) {
        super("no materialized view is registered with id " + id);
    }
}
