package dev.matviews.console;

import dev.matviews.support.Api;
import dev.matviews.support.Browser;
import dev.matviews.support.SecuredProfile;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.condition.EnabledIf;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import java.net.URL;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console in a real browser (headless Debian Chromium), against the service with production
 * access rules: every page is screenshot to target/screenshots/, and no test may leave a script
 * error or a Content-Security-Policy violation in the browser's console.
 */
@QuarkusTest
@TestProfile(SecuredProfile.class)
@EnabledIf(value = "dev.matviews.support.Browser#usable", disabledReason = Browser.MISSING)
class ConsoleBrowserTest {

    @TestHTTPResource("/")
    URL console;

    static Browser browser;
    private String test;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @BeforeEach
    void signedOut(TestInfo info) {
        test = info.getTestMethod().orElseThrow().getName();
        browser.open(console.toString());
        browser.script("sessionStorage.clear()");
        browser.open("about:blank");
        browser.open(console.toString());
        browser.consoleErrors();
    }

    @AfterEach
    void noScriptErrorsOrPolicyViolations() {
        // Refusals the tests provoke (401, 409, 500) are logged as failed loads; anything else is a fault.
        List<String> errors = browser.consoleErrors().stream().filter(m -> !m.contains("Failed to load resource")).toList();
        assertEquals(List.of(), errors);
    }

    private static String token(String password) {
        return given().contentType(ContentType.JSON).body("{\"password\":\"" + password + "\"}").post("/api/admin/auth")
                .then().statusCode(200).extract().path("token");
    }

    private static RequestSpecification admin() {
        return given().auth().oauth2(token("admin-secret")).contentType(ContentType.JSON);
    }

    /** A new matview in public, named after {@code prefix}, as the service's role owns it. */
    private static String matview(String prefix, String query) {
        String view = TestDb.uniqueName(prefix);
        TestDb.run("CREATE MATERIALIZED VIEW public." + view + " AS " + query);
        return view;
    }

    private static String register(String view, String mode) {
        return admin().body("{\"schema\":\"public\",\"viewName\":\"" + view + "\",\"refreshMode\":\"" + mode + "\"}")
                .post(Api.BASE).then().statusCode(201).extract().path("id");
    }

    private void shot(String step) {
        browser.screenshot(getClass().getSimpleName() + "-" + test + "-" + step);
    }

    /** Signs in on the list of views. */
    private void signIn(String password) {
        signIn(password, "#/views", "#views tbody");
        browser.until(d -> !d.findElement(By.id("count")).getText().isBlank());
    }

    /** Signs in on the page at {@code hash}, waiting for {@code shown}. */
    private void signIn(String password, String hash, String shown) {
        browser.open(console.toString() + hash);
        // a change of the hash alone does not load the page again: the field may hold an earlier try
        WebElement field = browser.await("#password");
        field.clear();
        field.sendKeys(password);
        browser.find("#signin").click();
        try {
            browser.await(shown);
        } catch (org.openqa.selenium.TimeoutException e) {
            shot("failed-sign-in");
            throw new AssertionError("not signed in; the page says: " + browser.find("body").getText()
                    + "; requests that ended: " + browser.script("return performance.getEntriesByType('resource')"
                    + ".map(e => e.name + ' ' + Math.round(e.startTime) + '-' + Math.round(e.responseEnd)).join(', ')"), e);
        }
    }

    private WebElement row(String id) {
        return browser.await("#views tr[data-id='" + id + "']");
    }

    private String statusOf(String id) {
        // read in one step: a live update replaces the row between a find and a read
        return (String) browser.script("const row = document.querySelector(\"#views tr[data-id='\" + arguments[0]"
                + " + \"']\"); return row ? row.dataset.status : null", id);
    }

    /** Clicks the action button of a view's row, again if a live update replaced the row meanwhile. */
    private void action(String id, String action) {
        browser.until(d -> {
            try {
                row(id).findElement(By.cssSelector("button[data-action='" + action + "']")).click();
                return true;
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                return false;
            }
        });
    }

    private void awaitStatus(String id, String status) {
        try {
            browser.until(d -> status.equals(statusOf(id)));
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("status " + statusOf(id) + ", not " + status + ": " + row(id).getText(), e);
        }
    }

    @Test
    void signInRefusesAWrongPasswordAndKeepsTheTokenOutOfUrlsAndLocalStorage() {
        browser.await("#signin-form");
        shot("1-sign-in");
        browser.find("#password").sendKeys("not-the-password");
        browser.find("#signin").click();
        WebElement error = browser.until(d -> {
            WebElement e = d.findElement(By.id("signin-error"));
            return e.getText().isBlank() ? null : e;
        });
        assertEquals("Unauthorized: wrong password", error.getText());
        assertTrue(browser.all("#views").isEmpty());
        shot("2-wrong-password");

        signIn("admin-secret");
        assertEquals("signed in as admin", browser.find("#who").getText());
        String token = (String) browser.script("return sessionStorage.getItem('matviews.token')");
        assertNotNull(token);
        assertFalse(browser.driver().getCurrentUrl().contains(token));
        assertEquals(0L, browser.script("return localStorage.length"));
        shot("3-signed-in");

        browser.find("#signout").click();
        browser.await("#signin-form");
        assertNull(browser.script("return sessionStorage.getItem('matviews.token')"));
        browser.open(console.toString());
        browser.await("#signin-form");

        // a token from elsewhere (here one the service signed, as an identity provider's would be)
        browser.find("#token-form").findElement(By.xpath("..")).findElement(By.tagName("summary")).click();
        browser.await("#token").sendKeys("not.a.token");
        browser.find("#token-form button").click();
        browser.until(d -> !d.findElement(By.id("signin-error")).getText().isBlank());
        assertTrue(browser.all("#views").isEmpty());
        browser.await("#token").sendKeys(token("viewer-secret"));
        browser.find("#token-form button").click();
        browser.await("#tiles");
        assertEquals("signed in as viewer", browser.find("#who").getText());
        shot("4-pasted-token");
    }

    @Test
    void aRefreshStartedThroughTheApiShowsAsRunningWithinASecondThenItsOutcome() {
        String view = matview("slow", "SELECT 1 AS id, (SELECT 1 FROM pg_sleep(1.5)) AS slept");
        String id = register(view, "standard");
        signIn("admin-secret");
        WebElement row = row(id);
        assertEquals(view, row.findElement(By.cssSelector("td.name")).getText());
        assertEquals("never", statusOf(id));

        admin().post(Api.BASE + "/" + id + "/refresh?async=true").then().statusCode(202);
        long asked = System.nanoTime();
        browser.until(d -> "running".equals(statusOf(id)));
        long shownMs = (System.nanoTime() - asked) / 1_000_000;
        assertTrue(shownMs < 1000, "shown as running after " + shownMs + " ms");
        shot("1-running");
        awaitStatus(id, "success");
        WebElement done = row(id);
        assertTrue(done.getText().contains(" ms"), done.getText());
        shot("2-success");

        // the same from the console: start it in the background, then cancel it while it runs
        action(id, "refresh-async");
        awaitStatus(id, "running");
        action(id, "cancel");
        // A registration's status is success or error (as AllYourBase has it); the error says why.
        awaitStatus(id, "error");
        String error = row(id).findElement(By.cssSelector("td.error")).getText();
        assertTrue(error.toLowerCase().contains("cancel"), error);
        shot("3-cancelled");
    }

    @Test
    void registerFromThePickerShowingEligibilityThenUnregisterWithConfirmation() {
        String indexed = TestDb.uniqueName("pick");
        String plain = TestDb.uniqueName("pick");
        TestDb.run("CREATE MATERIALIZED VIEW public." + indexed + " AS SELECT 1 AS id;"
                + " CREATE UNIQUE INDEX ON public." + indexed + " (id);"
                + " CREATE MATERIALIZED VIEW public." + plain + " AS SELECT 1 AS id");
        signIn("admin-secret");
        browser.find("#register").click();
        browser.await("#register-dialog input[type='search']").sendKeys("pick_");
        WebElement eligible = browser.await("#register-dialog tr[data-name='public." + indexed + "']");
        WebElement ineligible = browser.await("#register-dialog tr[data-name='public." + plain + "']");
        assertEquals("yes", eligible.findElements(By.tagName("td")).get(2).getText());
        assertTrue(ineligible.findElements(By.tagName("td")).get(2).getText().startsWith("no: "),
                ineligible.getText());
        shot("1-picker");
        eligible.click();
        new Select(browser.find("#register-mode")).selectByValue("auto");
        browser.find("#do-register").click();
        browser.until(d -> d.findElement(By.id("notice")).getText().startsWith("Registered public." + indexed));
        String id = given().auth().oauth2(token("admin-secret")).queryParam("schema", "public").queryParam("view", indexed)
                .get(Api.BASE).then().statusCode(200).extract().path("items[0].id");
        assertEquals("auto", row(id).findElements(By.tagName("td")).get(2).getText());
        shot("2-registered");

        action(id, "unregister");
        browser.await("#confirm-unregister");
        shot("3-confirm");
        browser.find("#confirm-unregister").click();
        browser.until(d -> d.findElements(By.cssSelector("#views tr[data-id='" + id + "']")).isEmpty());
        admin().get(Api.BASE + "/" + id).then().statusCode(404);
    }

    @Test
    void aRefusalIsShownAsTheProblemsTitleAndDetail() {
        String view = matview("noidx", "SELECT 1 AS id");
        String id = register(view, "concurrent");
        signIn("admin-secret");
        action(id, "refresh");
        WebElement problem = browser.await("#problem");
        assertEquals("Concurrent refresh needs a usable unique index", problem.findElement(By.className("title")).getText());
        String detail = problem.findElement(By.className("detail")).getText();
        assertTrue(detail.contains(view) && detail.contains("unique index"), detail);
        shot("1-refused");

        // a page that cannot be loaded says so in place, never a blank page
        browser.open(console + "#/views/" + java.util.UUID.randomUUID());
        WebElement failed = browser.await("section.failed");
        assertTrue(failed.getText().startsWith("This page could not be loaded: "), failed.getText());
        assertTrue(browser.find("#problem").getText().contains("not found"), browser.find("#problem").getText());
        shot("2-not-found");
    }

    @Test
    void aViewerSeesEverythingButNoWriteAction() {
        String view = matview("seen", "SELECT 1 AS id");
        String id = register(view, "standard");
        signIn("viewer-secret");
        assertEquals("signed in as viewer", browser.find("#who").getText());
        row(id);
        assertTrue(browser.all("button[data-action]").isEmpty());
        assertTrue(browser.all("#register").isEmpty());
        shot("1-views");
        row(id).findElement(By.cssSelector("td.name a")).click();
        browser.await("#facts");
        assertTrue(browser.all("button[data-action]").isEmpty());
        shot("2-view");
        browser.open(console + "#/schedules");
        browser.await("#schedules");
        assertTrue(browser.all("button[data-action]").isEmpty());
    }

    @Test
    void oneViewShowsItsHistoryFilteredAndAChartWithFailuresMarked() {
        String table = TestDb.uniqueName("src");
        String view = TestDb.uniqueName("hist");
        TestDb.run("CREATE TABLE public." + table + " (id int); INSERT INTO public." + table + " VALUES (1);"
                + " CREATE MATERIALIZED VIEW public." + view + " AS SELECT 1 / (SELECT count(*)::int FROM public." + table
                + ") AS x");
        String id = register(view, "standard");
        admin().post(Api.BASE + "/" + id + "/refresh").then().statusCode(200);
        admin().post(Api.BASE + "/" + id + "/refresh").then().statusCode(200);
        TestDb.run("DELETE FROM public." + table);
        admin().post(Api.BASE + "/" + id + "/refresh").then().statusCode(500);
        TestDb.run("INSERT INTO public." + table + " VALUES (1)");
        admin().post(Api.BASE + "/" + id + "/refresh").then().statusCode(200);

        signIn("admin-secret");
        row(id).findElement(By.cssSelector("td.name a")).click();
        browser.await("#chart svg");
        assertEquals(3, browser.all("#chart circle.ok").size());
        assertEquals(1, browser.all("#chart g.fail").size());
        browser.until(d -> d.findElements(By.cssSelector("#runs tr[data-run]")).size() == 4);
        shot("1-history");
        new Select(browser.find("#run-status")).selectByValue("error");
        browser.until(d -> d.findElements(By.cssSelector("#runs tr[data-run]")).size() == 1);
        assertTrue(browser.find("#runs tr[data-run]").getText().contains("division by zero"));
        shot("2-errors-only");
    }

    @Test
    void editShowsTheCronsNextFiringTimesBeforeSaving() {
        String view = matview("sched", "SELECT 1 AS id");
        String id = register(view, "standard");
        signIn("admin-secret");
        action(id, "edit");
        WebElement cron = browser.await("#cron");
        cron.sendKeys("61 * * * *");
        browser.until(d -> d.findElement(By.cssSelector("#next-runs li")).getText().startsWith("Invalid request"));
        cron.clear();
        cron.sendKeys("0 3 * * *");
        WebElement tz = browser.find("#timezone");
        tz.clear();
        tz.sendKeys("Europe/Berlin");
        browser.until(d -> d.findElements(By.cssSelector("#next-runs li")).size() == 5
                && d.findElement(By.cssSelector("#next-runs li")).getText().matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:00:00"));
        shot("1-preview");
        browser.find("#save").click();
        browser.until(d -> d.findElements(By.id("edit")).isEmpty());
        WebElement saved = row(id);
        assertTrue(saved.getText().contains("0 3 * * * (Europe/Berlin)"), saved.getText());
        admin().get(Api.BASE + "/" + id).then().statusCode(200)
                .body("schedule.cronExpr", org.hamcrest.Matchers.equalTo("0 3 * * *"))
                .body("schedule.timezone", org.hamcrest.Matchers.equalTo("Europe/Berlin"));
        shot("2-saved");

        browser.find("#nav a[data-nav='schedules']").click();
        WebElement schedule = browser.await("#schedules tr[data-id]");
        browser.until(d -> d.findElements(By.cssSelector("#schedules tr[data-id]")).stream()
                .anyMatch(r -> r.getText().contains(view)));
        shot("3-schedules");
        WebElement mine = browser.all("#schedules tr[data-id]").stream().filter(r -> r.getText().contains(view))
                .findFirst().orElseThrow();
        String scheduleId = mine.getDomAttribute("data-id");
        mine.findElement(By.cssSelector("button[data-action='disable']")).click();
        browser.until(d -> d.findElement(By.cssSelector("#schedules tr[data-id='" + scheduleId + "']")).getText()
                .contains("disabled"));
        admin().get("/api/admin/schedules/" + scheduleId).then().body("enabled", org.hamcrest.Matchers.equalTo(false));
        assertNotNull(schedule);
        browser.find("#nav a[data-nav='jobs']").click();
        browser.await("#jobs");
        shot("4-jobs");
    }

    @Test
    void aFreshnessTargetIsEditedAndTheLagShownAgainstIt() {
        String view = matview("target", "SELECT 1 AS id");
        String id = register(view, "standard");
        signIn("admin-secret");
        action(id, "edit");
        WebElement target = browser.await("#target-lag");
        target.sendKeys("soon");
        browser.find("#save").click();
        browser.until(d -> d.findElement(By.cssSelector("#edit .error")).getText().contains("targetLag"));
        admin().get(Api.BASE + "/" + id).then().body("targetLag", org.hamcrest.Matchers.nullValue());
        shot("1-refused");
        target.clear();
        target.sendKeys("5m");
        browser.find("#save").click();
        browser.until(d -> d.findElements(By.id("edit")).isEmpty());
        admin().get(Api.BASE + "/" + id).then().body("targetLag", org.hamcrest.Matchers.equalTo("PT5M"));
        assertTrue(row(id).findElement(By.cssSelector("td.freshness")).getText().startsWith("never refreshed"));
        // (this profile runs no scheduler) a refresh elsewhere: the list shows the new lag against the target
        admin().post(Api.BASE + "/" + id + "/refresh").then().statusCode(200);
        browser.until(d -> row(id).findElement(By.cssSelector("td.freshness")).getText().matches("lag \\d+ s of 5 min"));
        assertEquals("false", row(id).findElement(By.cssSelector("td.freshness span")).getDomAttribute("data-behind"));
        shot("2-on-target");
        row(id).findElement(By.cssSelector("td.name a")).click();
        browser.until(d -> d.findElement(By.id("facts")).getText().contains("Freshness target"));
        assertTrue(browser.find("#facts").getText().contains("5 min"), browser.find("#facts").getText());
        shot("3-view");

        // suspended (as five failed scheduled refreshes would): shown with its reason, and resumed with a click
        TestDb.run("UPDATE _ayb_matview_refreshes SET suspended_at = now(), suspended_by = id,"
                + " suspended_reason = '5 scheduled refreshes failed in a row; the last: boom' WHERE id = '" + id + "'");
        browser.find("#nav a[href='#/views']").click();
        browser.until(d -> row(id).getText().contains("suspended"));
        shot("4-suspended");
        row(id).findElement(By.cssSelector("button[data-action='resume']")).click();
        browser.until(d -> !row(id).getText().contains("suspended"));
        admin().get(Api.BASE + "/" + id).then().body("suspended", org.hamcrest.Matchers.equalTo(false));
        assertTrue(row(id).findElements(By.cssSelector("button[data-action='resume']")).isEmpty());
        shot("5-resumed");
    }

    @Test
    void textFromTheDatabaseIsShownAsTextNeverAsMarkup() {
        String table = TestDb.uniqueName("evil");
        String view = TestDb.uniqueName("evil");
        String markup = "<img src=x onerror=\"window.pwned=1\">";
        TestDb.run("CREATE TABLE public." + table + " (id int); INSERT INTO public." + table + " VALUES (1);"
                + " CREATE FUNCTION public." + table + "_check() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN"
                + " IF (SELECT count(*) FROM public." + table + ") = 0 THEN RAISE EXCEPTION '" + markup.replace("'", "''")
                + "'; END IF; RETURN 1; END $f$;"
                + " CREATE MATERIALIZED VIEW public." + view + " AS SELECT public." + table + "_check() AS x;"
                + " CREATE MATERIALIZED VIEW public.\"" + markup.replace("\"", "\"\"") + "\" AS SELECT 1 AS id");
        String id = register(view, "standard");
        TestDb.run("DELETE FROM public." + table);
        admin().post(Api.BASE + "/" + id + "/refresh").then().statusCode(500);
        try {
            signIn("admin-secret");
            String error = row(id).findElement(By.cssSelector("td.error")).getText();
            assertTrue(error.contains(markup), error);
            browser.find("#register").click();
            browser.await("#register-dialog input[type='search']").sendKeys("onerror");
            browser.until(d -> d.findElements(By.cssSelector("#register-dialog tbody tr")).stream()
                    .anyMatch(r -> r.isDisplayed() && r.getText().contains("public." + markup)));
            shot("1-markup-as-text");
            assertTrue(browser.all("img").isEmpty(), "no element was made from the text");
            assertNull(browser.script("return window.pwned"));
        } finally {
            TestDb.run("DROP MATERIALIZED VIEW public.\"" + markup.replace("\"", "\"\"") + "\"");
        }
    }

    @Test
    void aBurstOfRefreshesElsewhereReachesEveryRow() {
        String schema = TestDb.uniqueName("burst");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + org.eclipse.microprofile.config
                .ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class));
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 25; i++) {
            TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".v" + i + " AS SELECT " + i + " AS id");
            ids.add(admin().body("{\"schema\":\"" + schema + "\",\"viewName\":\"v" + i + "\",\"refreshMode\":\"standard\"}")
                    .post(Api.BASE).then().statusCode(201).extract().path("id"));
        }
        signIn("admin-secret");
        ids.forEach(id -> assertEquals("never", statusOf(id)));
        // however the page reads them again (one by one, or the list once for a burst), every row gets its outcome
        admin().queryParam("schema", schema).post(Api.BASE + "/refresh-all").then().statusCode(200)
                .body("status", org.hamcrest.Matchers.equalTo("success"));
        ids.forEach(id -> awaitStatus(id, "success"));
        shot("1-all-refreshed");
    }

    private int tile(String state) {
        return Integer.parseInt(browser.find("#tiles [data-state='" + state + "']").getDomAttribute("data-count"));
    }

    private long chartSum(String attribute) {
        return ((Number) browser.script("return [...document.querySelectorAll('#runs-per-hour g.hour')]"
                + ".reduce((n, g) => n + Number(g.dataset[arguments[0]]), 0)", attribute)).longValue();
    }

    @Test
    void theOverviewCountsStatesListsWhatNeedsAttentionAndChartsTheHoursLive() {
        String table = TestDb.uniqueName("flag");
        TestDb.run("CREATE TABLE public." + table + " (id int); INSERT INTO public." + table + " VALUES (1);"
                + " CREATE FUNCTION public." + table + "_check() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN"
                + " IF (SELECT count(*) FROM public." + table + ") = 0 THEN RAISE EXCEPTION 'the overview shows this';"
                + " END IF; RETURN 1; END $f$;");
        String failing = register(matview("failing", "SELECT public." + table + "_check() AS x"), "standard");
        TestDb.run("DELETE FROM public." + table);
        admin().post(Api.BASE + "/" + failing + "/refresh").then().statusCode(500);
        String suspended = register(matview("suspended", "SELECT 1 AS id"), "standard");
        admin().post(Api.BASE + "/" + suspended + "/refresh").then().statusCode(200);
        TestDb.run("UPDATE _ayb_matview_refreshes SET suspended_at = now(), suspended_by = id,"
                + " suspended_reason = '5 scheduled refreshes failed in a row' WHERE id = '" + suspended + "'");
        String fresh = register(matview("fresh", "SELECT 1 AS id"), "standard");
        var api = admin().get("/api/admin/overview").then().statusCode(200).extract().jsonPath();

        signIn("admin-secret", "", "#tiles [data-state='total']");
        assertEquals("overview", browser.find("#nav a.current").getDomAttribute("data-nav"));
        assertEquals(api.getInt("counts.total"), tile("total"));
        assertEquals(api.getInt("counts.failing"), tile("failing"));
        assertEquals(api.getInt("counts.suspended"), tile("suspended"));
        WebElement failingRow = browser.await("#attention tr[data-id='" + failing + "']");
        assertEquals("failing", failingRow.getDomAttribute("data-state"));
        assertTrue(failingRow.getText().contains("error: the overview shows this"), failingRow.getText());
        assertTrue(browser.find("#attention tr[data-id='" + suspended + "']").getText()
                .contains("5 scheduled refreshes failed in a row"));
        assertTrue(browser.all("#attention tr[data-id='" + fresh + "']").isEmpty());
        assertTrue(browser.find("#failures tbody").getText().contains("the overview shows this"));
        assertEquals(24L, browser.script("return document.querySelectorAll('#runs-per-hour g.hour').length"));
        assertEquals(api.getList("hours.failed").stream().mapToLong(n -> ((Number) n).longValue()).sum(), chartSum("failed"));
        shot("1-overview");

        // live: a refresh elsewhere is counted within a few seconds, and a fixed view leaves the list
        long succeeded = chartSum("success");
        TestDb.run("INSERT INTO public." + table + " VALUES (1)");
        admin().post(Api.BASE + "/" + fresh + "/refresh").then().statusCode(200);
        admin().post(Api.BASE + "/" + failing + "/refresh").then().statusCode(200);
        browser.until(d -> chartSum("success") == succeeded + 2);
        browser.until(d -> d.findElements(By.cssSelector("#attention tr[data-id='" + failing + "']")).isEmpty());
        shot("2-live");

        // a row opens its view
        browser.find("#attention tr[data-id='" + suspended + "'] a").click();
        browser.until(d -> d.findElement(By.id("facts")).getText().contains("5 scheduled refreshes failed in a row"));
    }

    private static final int GRAPH_VIEWS = 1000;

    /**
     * 1,000 registered matviews over 50 tables, in chains of four (each reads its table and the one
     * before it): one part of 1,050 nodes, the hardest shape for a layered layout.
     */
    @Test
    void theWholeGraphIsDrawnLayeredColoredByStateAndLive() throws Exception {
        String schema = TestDb.uniqueName("g");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION matviews_svc");
        try {
            TestDb.run("DO $$ BEGIN FOR i IN 1..50 LOOP"
                    + " EXECUTE format('CREATE TABLE " + schema + ".t%s AS SELECT %s AS id', i, i); END LOOP;"
                    + " FOR i IN 1.." + GRAPH_VIEWS + " LOOP"
                    + " EXECUTE format('CREATE MATERIALIZED VIEW " + schema + ".v%s AS SELECT id FROM " + schema + ".t%s%s',"
                    + " i, i % 50 + 1, CASE WHEN i % 4 <> 1 THEN format(' UNION ALL SELECT id FROM " + schema + ".v%s', i - 1)"
                    + " ELSE '' END); END LOOP; END $$");
            // a chain of three slow views, for a cascade to light up
            TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".slow1 AS SELECT 1 AS id FROM pg_sleep(0.8);"
                    + " CREATE MATERIALIZED VIEW " + schema + ".slow2 AS SELECT id FROM " + schema + ".slow1, pg_sleep(0.8);"
                    + " CREATE MATERIALIZED VIEW " + schema + ".slow3 AS SELECT id FROM " + schema + ".slow2, pg_sleep(0.8)");
            RequestSpecification admin = admin();
            String first = null;
            for (int i = 1; i <= GRAPH_VIEWS; i++) {
                String id = admin.body("{\"schema\":\"" + schema + "\",\"viewName\":\"v" + i + "\"}")
                        .post(Api.BASE).then().statusCode(201).extract().path("id");
                first = first == null ? id : first;
            }
            String slow1 = null;
            for (String v : List.of("slow1", "slow2", "slow3")) {
                String id = admin.body("{\"schema\":\"" + schema + "\",\"viewName\":\"" + v + "\"}")
                        .post(Api.BASE).then().statusCode(201).extract().path("id");
                slow1 = slow1 == null ? id : slow1;
            }
            admin.post(Api.BASE + "/" + first + "/refresh").then().statusCode(200);
            // a view whose refresh fails once its flag table is empty
            TestDb.run("CREATE TABLE " + schema + ".flag (id int); INSERT INTO " + schema + ".flag VALUES (1);"
                    + " CREATE FUNCTION " + schema + ".check_flag() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN"
                    + " IF (SELECT count(*) FROM " + schema + ".flag) = 0 THEN RAISE EXCEPTION 'flag gone'; END IF;"
                    + " RETURN 1; END $f$;"
                    + " CREATE MATERIALIZED VIEW " + schema + ".broken AS SELECT " + schema + ".check_flag() AS x");
            String failing = admin.body("{\"schema\":\"" + schema + "\",\"viewName\":\"broken\"}")
                    .post(Api.BASE).then().statusCode(201).extract().path("id");
            TestDb.run("DELETE FROM " + schema + ".flag");
            var api = admin().get("/api/admin/graph").then().statusCode(200).extract().jsonPath();
            int nodes = api.getList("nodes").size();
            int edges = api.getList("edges").size();

            signIn("admin-secret", "#/graph", "#graph-box svg");
            browser.until(d -> !d.findElement(By.id("graph-summary")).getText().isBlank());
            assertEquals("graph", browser.find("#nav a.current").getDomAttribute("data-nav"));
            assertEquals((long) nodes, browser.script("return document.querySelectorAll('#graph-box .node').length"));
            assertEquals((long) edges, browser.script("return document.querySelectorAll('#graph-box .edge').length"));
            // layered in dependency order: whatever is read stands left of what reads it
            assertEquals(0L, browser.script("const x = id => document.querySelector(`#graph-box .node[data-id=\"${CSS.escape(id)}\"]`)"
                    + ".transform.baseVal.consolidate().matrix.e;"
                    + " return [...document.querySelectorAll('#graph-box .edge')]"
                    + ".filter(e => !(x(e.dataset.from) < x(e.dataset.to))).length"));
            String node = "#graph-box .node[data-registration='%s']";
            assertEquals("fresh", browser.find(node.formatted(first)).getDomAttribute("data-state"));
            assertEquals("never-refreshed", browser.find(node.formatted(slow1)).getDomAttribute("data-state"));
            assertEquals("table", browser.find("#graph-box .node[data-id='" + schema + ".t1']").getDomAttribute("data-kind"));
            String summary = browser.find("#graph-summary").getText() + "; "
                    + browser.find("#graph-summary").getDomAttribute("title");
            // and the requests behind it, again, as a client sees them (the layout now remembered)
            StringBuilder requests = new StringBuilder();
            for (String path : List.of("/api/admin/graph", "/api/admin/graph?layout=true", Api.BASE)) {
                long t0 = System.nanoTime();
                admin().get(path).then().statusCode(200);
                requests.append("; ").append(path).append(" ").append((System.nanoTime() - t0) / 1_000_000).append(" ms");
            }
            java.nio.file.Files.writeString(java.nio.file.Path.of("target", "screenshots", "graph-1000.txt"),
                    GRAPH_VIEWS + " registered matviews in chains of four over 50 tables: " + summary + requests + "\n");
            shot("1-graph-1000");

            // a refresh that fails turns its node red, live
            admin().post(Api.BASE + "/" + failing + "/refresh").then().statusCode(500);
            browser.until(d -> "failing".equals(d.findElement(By.cssSelector(node.formatted(failing))).getDomAttribute("data-state")));

            // a cascade lights up its nodes and edges while it runs, and goes dark after
            browser.find("#graph-find").sendKeys("slow");
            admin().post(Api.BASE + "/" + slow1 + "/refresh?cascade=downstream&async=true").then().statusCode(202);
            browser.until(d -> !d.findElements(By.cssSelector("#graph-box .node.running")).isEmpty());
            browser.until(d -> !d.findElements(By.cssSelector("#graph-box .edge.cascade")).isEmpty());
            shot("2-cascade-running");
            browser.until(d -> d.findElements(By.cssSelector("#graph-box .node.running")).isEmpty()
                    && d.findElements(By.cssSelector("#graph-box .edge.cascade")).isEmpty());
            assertEquals("fresh", browser.find(node.formatted(slow1)).getDomAttribute("data-state"));

            // found by its name, shown, and a click opens it; its page draws its neighbourhood around it
            WebElement find = browser.find("#graph-find");
            find.clear();
            find.sendKeys(schema + ".v1");
            String firstNode = node.formatted(first);
            browser.until(d -> d.findElement(By.cssSelector(firstNode)).getDomAttribute("class").contains("match"));
            shot("3-found");
            browser.find(node.formatted(first)).click();
            browser.until(d -> !d.findElements(By.cssSelector("#neighbourhood .node.focus")).isEmpty());
            assertEquals("fresh", browser.find("#neighbourhood .node.focus").getDomAttribute("data-state"));
            shot("4-neighbourhood");
        } finally {
            TestDb.run("DELETE FROM _ayb_matview_refreshes WHERE schema_name = '" + schema + "'");
            TestDb.runAsSuperuser("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    private long bars(String css) {
        return ((Number) browser.script("return document.querySelectorAll(arguments[0]).length", css)).longValue();
    }

    @Test
    void theTimelineShowsEachRunAsABarInLanesWithCascadesGroupedAndLive() {
        String schema = TestDb.uniqueName("tl");
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION matviews_svc");
        TestDb.run("CREATE MATERIALIZED VIEW " + schema + ".a AS SELECT 1 AS id FROM pg_sleep(0.3);"
                + " CREATE MATERIALIZED VIEW " + schema + ".b AS SELECT id FROM " + schema + ".a, pg_sleep(0.3);"
                + " CREATE MATERIALIZED VIEW " + schema + ".c AS SELECT id FROM " + schema + ".a, pg_sleep(0.3);"
                + " CREATE MATERIALIZED VIEW " + schema + ".slow AS SELECT 1 AS id FROM pg_sleep(3) WITH NO DATA;"
                + " CREATE TABLE " + schema + ".flag (id int);"
                + " CREATE FUNCTION " + schema + ".check_flag() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN"
                + " IF (SELECT count(*) FROM " + schema + ".flag) = 0 THEN RAISE EXCEPTION 'flag gone'; END IF;"
                + " RETURN 1; END $f$; INSERT INTO " + schema + ".flag VALUES (1);"
                + " CREATE MATERIALIZED VIEW " + schema + ".broken AS SELECT " + schema + ".check_flag() AS x");
        RequestSpecification admin = admin();
        java.util.Map<String, String> ids = new java.util.HashMap<>();
        for (String v : List.of("a", "b", "c", "broken")) {
            ids.put(v, admin.body("{\"schema\":\"" + schema + "\",\"viewName\":\"" + v + "\"}").post(Api.BASE)
                    .then().statusCode(201).extract().path("id"));
        }
        TestDb.run("DELETE FROM " + schema + ".flag");
        admin().post(Api.BASE + "/" + ids.get("broken") + "/refresh").then().statusCode(500);
        admin().post(Api.BASE + "/" + ids.get("a") + "/refresh").then().statusCode(200);
        String cascade = admin().queryParam("schema", schema).post(Api.BASE + "/refresh-all").then().statusCode(200)
                .extract().path("id");
        ids.put("slow", admin.body("{\"schema\":\"" + schema + "\",\"viewName\":\"slow\"}").post(Api.BASE)
                .then().statusCode(201).extract().path("id"));

        signIn("admin-secret", "#/timeline", "#timeline-box svg");
        assertEquals("timeline", browser.find("#nav a.current").getDomAttribute("data-nav"));
        String lane = "#timeline-box .lane[data-view='" + schema + ".%s']";
        // a's two runs: on its own, and first in the cascade; the cascade's group holds its views
        browser.until(d -> bars(lane.formatted("a") + " .bar") == 2);
        String group = "#timeline-box .group[data-cascade='" + cascade + "']";
        assertEquals(1L, bars(group));
        assertTrue(browser.find(group).getText().contains("cascade " + cascade.substring(0, 8)), browser.find(group).getText());
        // broken failed on its own and again in the cascade
        assertEquals(2L, bars(lane.formatted("broken") + " .bar[data-status='error']"));
        // b and c read a: in the cascade they start once a ended, side by side (parallel branches)
        Object order = browser.script("const bar = v => document.querySelector(`" + group + " ~ .lane[data-view='"
                + schema + ".${v}'] .bar`); const a = bar('a'), b = bar('b'), c = bar('c');"
                + " return [Number(b.dataset.start) >= Number(a.dataset.end), Number(c.dataset.start) >= Number(a.dataset.end)]");
        assertEquals(List.of(true, true), order);
        shot("1-timeline");
        browser.find("#timeline-fit").click();
        shot("2-fitted");
        // the whole window follows the clock again
        browser.find("#timeline-reset").click();

        // live: a refresh started elsewhere is a running bar that grows, then ends as succeeded
        admin().post(Api.BASE + "/" + ids.get("slow") + "/refresh?async=true").then().statusCode(202);
        browser.until(d -> bars(lane.formatted("slow") + " .bar[data-status='running']") == 1);
        shot("3-running");
        browser.until(d -> bars(lane.formatted("slow") + " .bar[data-status='success']") == 1);

        // a shorter window is read again; a bar opens its view
        new Select(browser.find("#timeline-window")).selectByVisibleText("15 min");
        browser.until(d -> bars(lane.formatted("slow") + " .bar") == 1);
        // (the picture is redrawn live: a bar found before a redraw is gone by the click, so find it again)
        browser.until(d -> {
            try {
                d.findElement(By.cssSelector(lane.formatted("broken") + " .bar")).click();
                return true;
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                return false;
            }
        });
        browser.until(d -> d.findElement(By.id("facts")).getText().contains("flag gone"));
    }
}
