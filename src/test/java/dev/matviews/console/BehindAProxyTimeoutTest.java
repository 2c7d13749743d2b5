package dev.matviews.console;

import dev.matviews.support.Api;
import dev.matviews.support.Browser;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.openqa.selenium.By;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * As behind an ingress that closes requests idle for 2 s (the service's own HTTP idle timeout
 * set to 2 s here, shorter than a refresh): a 5 s refresh started from the CLI and from the
 * console completes and is recorded success. A synchronous request would be cut after 2 s, and
 * its refresh cancelled with it.
 */
@QuarkusTest
@TestProfile(BehindAProxyTimeoutTest.ShortIdleTimeout.class)
class BehindAProxyTimeoutTest {

    public static class ShortIdleTimeout implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // the console's event stream is kept open by heartbeats, as it would be behind such a proxy
            return Map.of("quarkus.http.idle-timeout", "2s", "matviews.events.heartbeat", "1s");
        }
    }

    @TestHTTPResource("/")
    URL service;

    private static String slowView() {
        String view = TestDb.uniqueName("slow");
        TestDb.run("CREATE MATERIALIZED VIEW public." + view + " AS SELECT 1 AS id FROM pg_sleep(5) WITH NO DATA");
        return view;
    }

    private static String runStatuses(String id) {
        return TestDb.string("SELECT string_agg(status, ',' ORDER BY started_at) FROM _ayb_matview_refresh_runs"
                + " WHERE registration_id = '" + id + "'");
    }

    @Test
    void aFiveSecondRefreshFromTheCliOutlivesATwoSecondIdleTimeout() {
        String view = slowView();
        String id = Api.register("public", view, "standard");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = dev.matviews.cli.CliTestAccess.execute(new String[]{"refresh", "public." + view, "--url=" + service},
                new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, out + "\n" + err);
        assertTrue(out.toString().startsWith("Refreshed public." + view + " in "), out.toString());
        assertEquals("success", runStatuses(id));
    }

    @Test
    @EnabledIf(value = "dev.matviews.support.Browser#usable", disabledReason = Browser.MISSING)
    void aFiveSecondRefreshFromTheConsoleOutlivesATwoSecondIdleTimeout() {
        String view = slowView();
        String id = Api.register("public", view, "standard");
        try (Browser browser = Browser.start()) {
            browser.open(service + "#/views");
            browser.until(d -> {
                try {
                    d.findElement(By.cssSelector("#views tr[data-id='" + id + "'] button[data-action='refresh']")).click();
                    return true;
                } catch (org.openqa.selenium.NoSuchElementException | org.openqa.selenium.StaleElementReferenceException e) {
                    return false;
                }
            });
            String notice = new org.openqa.selenium.support.ui.WebDriverWait(browser.driver(), java.time.Duration.ofSeconds(30))
                    .until(d -> {
                        String text = d.findElement(By.id("notice")).getText();
                        return text.startsWith("Refreshed public." + view) ? text : null;
                    });
            browser.screenshot(getClass().getSimpleName() + "-refreshed");
            assertTrue(notice.matches("Refreshed public\\." + view + " in \\d+ ms\\."), notice);
            assertTrue(browser.find("#problem").getAttribute("hidden") != null, "no problem shown");
            assertEquals("success", runStatuses(id));
        }
    }
}
