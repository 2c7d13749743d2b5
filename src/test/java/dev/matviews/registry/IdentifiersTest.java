package dev.matviews.registry;

import dev.matviews.problem.InvalidInputException;
import dev.matviews.refresh.RefreshRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdentifiersTest {

    @ParameterizedTest
    @ValueSource(strings = {"public", "leaderboard", "_internal1", "A1"})
    void acceptsPlainIdentifiers(String name) {
        assertTrue(Identifiers.isValid(name));
        assertEquals(name, Identifiers.require("viewName", name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1abc", "bad-name", "bad.name", "bad name", "bad\"quote", "é", "a;drop"})
    void rejectsAnythingElse(String name) {
        assertFalse(Identifiers.isValid(name));
        assertThrows(InvalidInputException.class, () -> Identifiers.require("viewName", name));
    }

    @Test
    void rejectsNull() {
        assertFalse(Identifiers.isValid(null));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Identifiers.require("viewName", null));
        assertEquals("viewName is required", e.getMessage());
    }

    @Test
    void acceptsSixtyThreeBytesAndRejectsSixtyFour() {
        assertTrue(Identifiers.isValid("a".repeat(63)));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Identifiers.require("schema", "a".repeat(64)));
        assertEquals("schema must be at most 63 bytes long", e.getMessage());
    }

    @Test
    void quotesEveryIdentifierAndDoublesQuotes() {
        assertEquals("\"select\"", Identifiers.quote("select"));
        assertEquals("\"a\"\"b\"", Identifiers.quote("a\"b"));
        assertEquals("\"public\".\"Leaderboard\"", Identifiers.qualified("public", "Leaderboard"));
    }

    @Test
    void buildsTheExactRefreshStatementForBothModes() {
        assertEquals("REFRESH MATERIALIZED VIEW \"public\".\"leaderboard\"",
                RefreshRepository.refreshSql("public", "leaderboard", RefreshMode.STANDARD));
        assertEquals("REFRESH MATERIALIZED VIEW CONCURRENTLY \"public\".\"leaderboard\"",
                RefreshRepository.refreshSql("public", "leaderboard", RefreshMode.CONCURRENT));
    }

    @Test
    void parsesOnlyTheKnownModes() {
        assertEquals(RefreshMode.STANDARD, RefreshMode.parse("standard"));
        assertEquals(RefreshMode.CONCURRENT, RefreshMode.parse("concurrent"));
        assertThrows(InvalidInputException.class, () -> RefreshMode.parse("CONCURRENT"));
        assertThrows(InvalidInputException.class, () -> RefreshMode.parse("fast"));
    }
}
