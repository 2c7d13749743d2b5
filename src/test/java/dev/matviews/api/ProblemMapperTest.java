package dev.matviews.api;

import io.vertx.pgclient.PgException;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The last line behind the input checks: text PostgreSQL cannot store is the client's error. */
class ProblemMapperTest {

    private final ProblemMapper mapper = new ProblemMapper();

    @Test
    void textPostgresCannotStoreIsA400WithoutClassNames() {
        for (String sqlState : new String[]{"22021", "22P05"}) {
            Response response = mapper.unexpected(new PgException("invalid byte sequence for encoding \"UTF8\": 0x00",
                    "ERROR", sqlState, null));
            assertEquals(400, response.getStatus(), sqlState);
            Problem problem = (Problem) response.getEntity();
            assertEquals("urn:matviews:problem:invalid-request", problem.type());
            assertFalse(problem.detail().contains("PgException"), problem.detail());
        }
    }

    @Test
    void otherDatabaseErrorsStayInternal() {
        Response response = mapper.unexpected(new PgException("division by zero", "ERROR", "22012", null));
        assertEquals(500, response.getStatus());
    }
}
