package dev.matviews.api;

import dev.matviews.problem.InvalidInputException;
import jakarta.inject.Singleton;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;

import java.util.Comparator;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks a request record against the Bean Validation constraints it carries: the one place its
 * limits are written, and what OpenAPI shows. A violation is a 400 that names each field, its
 * limit and the value given.
 */
@Singleton
public class RequestValidator {

    private final Validator validator;

    public RequestValidator(Validator validator) {
        this.validator = validator;
    }

    public <T> T valid(T request) {
        Set<ConstraintViolation<T>> violations = validator.validate(request);
        if (violations.isEmpty()) {
            return request;
        }
        throw new InvalidInputException(violations.stream()
                .sorted(Comparator.comparing((ConstraintViolation<T> v) -> v.getPropertyPath().toString())
                        .thenComparing(ConstraintViolation::getMessage))
                .map(v -> v.getPropertyPath() + " " + v.getMessage() + ", got " + shown(v.getInvalidValue()))
                .collect(Collectors.joining("; ")));
    }

    private static String shown(Object value) {
        return value instanceof String text ? InvalidInputException.quoted(text) : String.valueOf(value);
    }
}
