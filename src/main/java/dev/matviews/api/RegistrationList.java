package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import dev.matviews.registry.Registration;

import java.util.List;

/** The list envelope of the original API. */
@RegisterForReflection
public record RegistrationList(List<Registration> items, int count) {
    public static RegistrationList of(List<Registration> items) {
        return new RegistrationList(items, items.size());
    }
}
