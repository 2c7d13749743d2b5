package dev.matviews.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OutputTest {

    @Test
    void anEmptyListSaysSoLikeTheOriginal() {
        StringWriter out = new StringWriter();
        Output.list(new PrintWriter(out, true), Output.Format.TABLE, ApiClient.JSON.createArrayNode(),
                MatviewsCli.REGISTRATION_COLUMNS, "No materialized views registered.");
        assertEquals("No materialized views registered.", out.toString().trim());
    }

    @Test
    void csvQuotesWhatNeedsQuoting() throws Exception {
        StringWriter out = new StringWriter();
        Output.list(new PrintWriter(out, true), Output.Format.CSV,
                ApiClient.JSON.readTree("[{\"id\":\"1\",\"error\":\"a, \\\"b\\\"\"}]"),
                java.util.List.of(Output.Column.of("ID", "id"), Output.Column.of("ERROR", "error")), "none");
        assertEquals("ID,ERROR\n1,\"a, \"\"b\"\"\"\n", out.toString().replace("\r", ""));
    }

    @Test
    void httpStatusesMapToTheDocumentedExitCodes() {
        assertEquals(2, ApiException.forStatus(400));
        assertEquals(5, ApiException.forStatus(401));
        assertEquals(5, ApiException.forStatus(403));
        assertEquals(5, ApiException.forStatus(429));
        assertEquals(2, ApiException.forStatus(413));
        assertEquals(4, ApiException.forStatus(404));
        assertEquals(3, ApiException.forStatus(409));
        assertEquals(1, ApiException.forStatus(500));
        assertEquals(1, ApiException.forStatus(504));
    }
}
