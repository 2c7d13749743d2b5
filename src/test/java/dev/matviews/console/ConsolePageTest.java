package dev.matviews.console;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.config.DecoderConfig;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's page as served: its policy headers, no inline script or style, compressed assets. */
@QuarkusTest
class ConsolePageTest {

    static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    @Test
    void thePageAndItsAssetsCarryAPolicyThatAllowsNoInlineScript() {
        for (String path : new String[]{"/", "/index.html", "/console/console.js", "/console/core.js",
                "/console/overview.js", "/console/views.js", "/console/view.js", "/console/jobs.js", "/console/console.css"}) {
            given().get(path).then().statusCode(200)
                    .header("Content-Security-Policy", POLICY)
                    .header("X-Content-Type-Options", "nosniff")
                    .header("Referrer-Policy", "no-referrer");
        }
        given().get("/console/console.js").then().contentType(containsString("javascript"));
        // the API keeps its own headers: no page policy on JSON
        assertFalse(given().get("/q/health/live").then().extract().headers().hasHeaderWithName("Content-Security-Policy"));
    }

    @Test
    void thePageHasNoInlineScriptStyleOrHandler() {
        String html = given().get("/").then().statusCode(200).contentType(containsString("text/html")).extract().asString();
        Matcher scripts = Pattern.compile("<script\\b([^>]*)>(.*?)</script>", Pattern.DOTALL).matcher(html);
        int count = 0;
        while (scripts.find()) {
            count++;
            assertTrue(scripts.group(1).contains("src="), "a script without src: " + scripts.group());
            assertEquals("", scripts.group(2).trim(), "an inline script");
        }
        assertEquals(1, count);
        assertFalse(html.contains("<style"), "an inline stylesheet");
        assertFalse(Pattern.compile("\\son[a-z]+=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "an inline handler");
        assertFalse(html.contains("style="), "an inline style");
        assertFalse(html.contains("http://") || html.contains("https://"), "every asset comes from the service itself");
    }

    @Test
    void assetsAreGzippedForBrowsers() {
        for (String path : new String[]{"/console/console.js", "/api/admin/matviews"}) {
            given().config(io.restassured.RestAssured.config().decoderConfig(DecoderConfig.decoderConfig().noContentDecoders()))
                    .header("Accept-Encoding", "gzip").get(path).then().statusCode(200).header("Content-Encoding", "gzip");
        }
    }
}
