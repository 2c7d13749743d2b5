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
    void anHttpSideIoFailureIsNotTheDatabases() {
        // a client of the API that reset its connection, an identity provider that refused one
        for (Throwable e : new Throwable[]{new java.io.IOException("Connection reset by peer"),
                new RuntimeException(new java.net.ConnectException("Connection refused: idp.example/10.0.0.9:443"))}) {
            Response response = mapper.unexpected(e);
            assertEquals(500, response.getStatus(), e.toString());
            assertEquals("urn:matviews:problem:internal", ((Problem) response.getEntity()).type());
        }
    }

    @Test
    void anIoFailureTheSqlClientFailedItsStatementsWithIsTheDatabases() {
        Response response = mapper.unexpected(new io.vertx.core.VertxException(
                "Pending requests failed to be sent due to connection has been closed.",
                new java.io.IOException("Connection reset by peer")));
        assertEquals(503, response.getStatus());
    }

    @Test
    void otherDatabaseErrorsStayInternal() {
        Response response = mapper.unexpected(new PgException("division by zero", "ERROR", "22012", null));
        assertEquals(500, response.getStatus());
    }
}
