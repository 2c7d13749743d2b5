package dev.matviews.db;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.problem.InvalidInputException;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * A state stored in matviews' tables and shown in the API by the same lowercase name. Every such
 * name, whether it comes from a request or from a row, is parsed here, the one way.
 */
public interface DbEnum {

    /** The name in the database and on the wire. */
    @JsonValue
    String dbName();

    /**
     * The constant named {@code value}; an unknown name is the request's mistake (a row cannot hold
     * one: every column has a CHECK constraint).
     *
     * @param field how the request names the value, for the problem's detail
     */
    static <E extends Enum<E> & DbEnum> E parse(Class<E> type, String field, String value) {
        for (E constant : type.getEnumConstants()) {
            if (constant.dbName().equals(value)) {
                return constant;
            }
        }
        throw new InvalidInputException(field + " must be one of " + names(type) + ", got " + InvalidInputException.quoted(value));
    }

    /** The names of all constants, comma-separated, in declaration order. */
    static <E extends Enum<E> & DbEnum> String names(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(DbEnum::dbName).collect(Collectors.joining(", "));
    }

    /** The usual name: the constant's own, in lowercase. */
    static String lowercase(Enum<?> constant) {
        return constant.name().toLowerCase(java.util.Locale.ROOT);
    }
}
