package dev.matviews.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.matviews.support.TestDb;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every CLI command against the running service (this test's Quarkus app and its database). */
@QuarkusTest
class CliTest {

    @TestHTTPResource("/")
    URL service;

    record Result(int code, String out, String err) {
        JsonNode json() throws Exception {
            if (out.isBlank()) {
                throw new AssertionError("no output, exit code " + code + ": " + err);
            }
            return ApiClient.JSON.readTree(out);
        }
    }

    private Result run(String... args) {
        return runWith(Map.of(), null, withUrl(args));
    }

    private String[] withUrl(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.add("--url=" + service.toString());
        return all.toArray(String[]::new);
    }

    private static Result runWith(Map<String, String> env, Path config, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = MatviewsCli.execute(args, new PrintWriter(out), new PrintWriter(err), env, config);
        return new Result(code, out.toString(), err.toString());
    }

    private static String matview(String sql) {
        String mv = TestDb.uniqueName("cli");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS " + sql);
        return mv;
    }

    private static void ok(Result r) {
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void registerListShowUpdateUnregister() throws Exception {
        String mv = matview("SELECT 1 AS id");
        Result registered = run("register", "--schema", "public", "--view", mv, "--mode", "standard");
        ok(registered);
        assertTrue(registered.out().startsWith("Registered public." + mv + " (standard) with id "), registered.out());

        Result list = run("list");
        ok(list);
        assertTrue(list.out().lines().findFirst().orElseThrow()
                .matches("ID +SCHEMA +VIEW +MODE +LAST REFRESH +STATUS +TARGET +LAG S"), list.out());
        assertTrue(list.out().contains(mv));
        JsonNode json = run("list", "--json").json();
        assertTrue(json.isArray());
        assertTrue(json.toString().contains("\"viewName\":\"" + mv + "\""));
        Result csv = run("list", "--csv");
        assertTrue(csv.out().startsWith("ID,SCHEMA,VIEW,MODE,LAST REFRESH,STATUS,TARGET,LAG S"), csv.out());

        JsonNode shown = run("show", "public." + mv, "--json").json();
        assertEquals(mv, shown.path("viewName").asText());
        ok(run("show", shown.path("id").asText()));

        Result updated = run("update", "public." + mv, "--mode", "concurrent", "--lock-timeout", "2000");
        ok(updated);
        assertEquals("Updated public." + mv + ": mode concurrent, statement timeout default, lock timeout 2000 ms,"
                + " target lag none", updated.out().trim());

        Result target = run("update", "public." + mv, "--target-lag", "90s");
        ok(target);
        assertTrue(target.out().trim().endsWith(", target lag PT1M30S"), target.out());
        assertTrue(run("list").out().lines().anyMatch(l -> l.contains(mv) && l.contains("PT1M30S")));
        assertEquals(2, run("update", "public." + mv, "--target-lag", "soon").code(), "a bad target is a usage error");
        assertEquals("PT1M30S", run("show", "public." + mv, "--json").json().path("targetLag").asText());
        ok(run("update", "public." + mv, "--target-lag", "none"));
        Result notSuspended = run("resume", "public." + mv);
        ok(notSuspended);
        assertEquals("public." + mv + " was not suspended", notSuspended.out().trim());
        TestDb.run("UPDATE _ayb_matview_refreshes SET suspended_at = now(), suspended_reason = 'test', suspended_by = id"
                + " WHERE view_name = '" + mv + "'");
        assertTrue(run("list").out().lines().anyMatch(l -> l.contains(mv) && l.contains("(suspended)")));
        Result resumed = run("resume", "public." + mv);
        ok(resumed);
        assertEquals("Resumed public." + mv + " and the views suspended because of it", resumed.out().trim());
        assertTrue(!run("show", "public." + mv, "--json").json().path("suspended").asBoolean());
        assertTrue(run("show", "public." + mv, "--json").json().path("targetLag").isNull());

        TestDb.run("CREATE TABLE public." + mv + "_t (x int)");
        Result eligible = run("explain", "SELECT " + mv + ".x, count(*) AS n FROM public." + mv + "_t " + mv + " GROUP BY 1");
        ok(eligible);
        assertEquals("Can be maintained incrementally.\nColumns: x, n\nReads:   public." + mv + "_t\n", eligible.out());
        Result refused = run("explain", "SELECT x, now() AS at FROM public." + mv + "_t ORDER BY x");
        ok(refused);
        assertTrue(refused.out().startsWith("Cannot be maintained incrementally:\n  - ORDER BY\n"
                + "  - the stable function pg_catalog.now"), refused.out());
        assertEquals(false, run("explain", "SELECT 1 AS one", "--json").json().path("incrementalEligible").asBoolean());
        Result bad = run("explain", "SELEC 1");
        assertTrue(bad.code() != 0 && bad.err().contains("syntax error"), bad.err());

        // an incremental view: registered with its definition, refreshed, unregistered with its table
        TestDb.run("INSERT INTO public." + mv + "_t VALUES (1), (1), (2)");
        Result incremental = run("register", "--view", mv + "_inc", "--definition",
                "SELECT x, count(*) AS n FROM public." + mv + "_t GROUP BY x");
        ok(incremental);
        assertTrue(incremental.out().startsWith("Registered public." + mv + "_inc (incremental) with id "), incremental.out());
        TestDb.run("INSERT INTO public." + mv + "_t VALUES (2)");
        ok(run("refresh", "public." + mv + "_inc"));
        assertEquals("1:2,2:2", TestDb.string("SELECT string_agg(x || ':' || n, ',' ORDER BY x) FROM public." + mv + "_inc"));
        Result dropped = run("unregister", "public." + mv + "_inc", "--drop");
        ok(dropped);
        assertEquals("Unregistered public." + mv + "_inc and dropped its table", dropped.out().trim());
        assertEquals(0, TestDb.count("SELECT count(*) FROM pg_class WHERE relname = '" + mv + "_inc'"));

        Result unregistered = run("unregister", "public." + mv);
        ok(unregistered);
        assertEquals("Unregistered public." + mv, unregistered.out().trim());
        assertEquals(4, run("show", "public." + mv).code());
    }

    @Test
    void skipUnchangedFromRegistrationToTrackingToASkippedRefreshAndBack() throws Exception {
        String table = TestDb.uniqueName("clisrc");
        TestDb.run("CREATE TABLE public." + table + " (id int PRIMARY KEY); INSERT INTO public." + table + " VALUES (1)");
        String mv = matview("SELECT id FROM public." + table);
        String ref = "public." + mv;

        Result registered = run("register", "--view", mv, "--skip-unchanged", "--max-skip-age", "3600");
        ok(registered);
        assertTrue(registered.out().contains("Its refreshes are not skipped yet: ")
                && registered.out().contains("matviews track " + ref), registered.out());
        JsonNode shown = run("show", ref, "--json").json();
        assertTrue(shown.path("skipUnchanged").asBoolean(), shown.toString());
        assertEquals(3600, shown.path("maxSkipAgeSeconds").asInt(), shown.toString());

        Result untracked = run("tracking", ref);
        ok(untracked);
        assertTrue(untracked.out().lines().anyMatch(l -> l.matches("(public\\.)?" + table + " +no")), untracked.out());
        assertTrue(untracked.out().contains("Never skipped: "), untracked.out());

        Result tracked = run("track", ref);
        ok(tracked);
        assertTrue(tracked.out().lines().anyMatch(l -> l.matches("(public\\.)?" + table + " +yes")), tracked.out());
        assertFalse(tracked.out().contains("Never skipped"), tracked.out());

        Result first = run("refresh", ref);
        ok(first);
        assertTrue(first.out().startsWith("Refreshed " + ref + " in "), "the first refresh after tracking is never skipped: "
                + first.out());
        Result second = run("refresh", ref);
        ok(second);
        assertTrue(second.out().startsWith("Skipped refresh of " + ref + ": unchanged since run "), second.out());
        assertTrue(run("tracking", ref).out().contains("Next refresh: would be skipped"));
        Result waited = run("refresh", ref, "--async", "--wait");
        ok(waited);
        assertTrue(waited.out().startsWith("Skipped refresh of " + ref + ": "), waited.out());

        TestDb.run("INSERT INTO public." + table + " VALUES (2)");
        assertTrue(run("tracking", ref).out().contains("Next refresh: refreshes ("));
        assertTrue(run("refresh", ref).out().startsWith("Refreshed " + ref + " in "));

        Result updated = run("update", ref, "--skip-unchanged", "false", "--max-skip-age", "0");
        ok(updated);
        assertFalse(updated.out().contains("skips unchanged"), updated.out());
        assertTrue(run("show", ref, "--json").json().path("maxSkipAgeSeconds").isNull());
        assertTrue(run("refresh", ref).out().startsWith("Refreshed "), "skipUnchanged off: refreshed even unchanged");

        Result removed = run("untrack", ref);
        ok(removed);
        assertTrue(removed.out().lines().anyMatch(l -> l.matches("(public\\.)?" + table + " +no")), removed.out());
        assertEquals(2, run("update", ref, "--skip-unchanged", "maybe").code());
        ok(run("unregister", ref));
    }

    @Test
    void catalogAndGraphShowWhatTheDatabaseHolds() throws Exception {
        String base = TestDb.uniqueName("clibase");
        TestDb.run("CREATE MATERIALIZED VIEW public." + base + " AS SELECT 1 AS id WITH NO DATA");
        String top = matview("SELECT 1 AS id");
        TestDb.run("DROP MATERIALIZED VIEW public." + top + "; CREATE MATERIALIZED VIEW public." + top
                + " AS SELECT id FROM public." + base + " WITH NO DATA");
        ok(run("register", "--view", top));

        Result catalog = run("catalog", "--schema", "public", "--unregistered");
        ok(catalog);
        String baseRow = Arrays.stream(catalog.out().split("\n")).filter(l -> l.contains(base + " ")).findFirst()
                .orElseThrow(() -> new AssertionError(catalog.out()));
        assertTrue(baseRow.contains("no: not populated"), baseRow);
        assertFalse(catalog.out().contains(top + " "), "registered views are left out: " + catalog.out());
        JsonNode registered = run("catalog", "--schema", "public", "--registered", "--json").json();
        assertTrue(registered.isArray());
        boolean found = false;
        for (JsonNode v : registered) {
            found |= v.path("viewName").asText().equals(top) && v.path("upstream").get(0).path("name").asText().equals(base);
        }
        assertTrue(found, registered.toString());
        assertEquals(2, run("catalog", "--registered", "--unregistered").code());

        Result graph = run("graph", "public." + top);
        ok(graph);
        assertTrue(graph.out().contains("public." + base), graph.out());
        String topRow = Arrays.stream(graph.out().split("\n")).filter(l -> l.startsWith("public." + top + " "))
                .findFirst().orElseThrow(() -> new AssertionError(graph.out()));
        assertTrue(topRow.endsWith("public." + base), "reads: " + topRow);
        Result dot = run("graph", "public." + top, "--dot");
        ok(dot);
        assertTrue(dot.out().contains("\"public." + base + "\" -> \"public." + top + "\";"), dot.out());
        assertEquals(4, run("graph", "public.no_such_view_here").code());
        ok(run("unregister", "public." + top));
    }

    @Test
    void refreshAllOverOneSchemaRefreshesItsViewsInGraphOrderAndExitsByTheOutcome() throws Exception {
        String schema = TestDb.uniqueName("cliall");
        String role = org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("quarkus.datasource.username", String.class);
        TestDb.runAsSuperuser("CREATE SCHEMA " + schema + " AUTHORIZATION " + role);
        TestDb.run("CREATE TABLE " + schema + ".switch (d int); INSERT INTO " + schema + ".switch VALUES (1);"
                + " CREATE MATERIALIZED VIEW " + schema + ".base AS SELECT 1 AS id;"
                + " CREATE MATERIALIZED VIEW " + schema + ".top AS SELECT id / (SELECT d FROM " + schema
                + ".switch) AS id FROM " + schema + ".base;"
                + " CREATE MATERIALIZED VIEW " + schema + ".beside AS SELECT 2 AS id");
        for (String v : List.of("base", "top", "beside")) {
            ok(run("register", "--schema", schema, "--view", v));
        }
        try {
            JsonNode all = run("refresh-all", "--schema", schema, "--parallelism", "2", "--json").json();
            assertEquals("success", all.path("status").asText());
            assertEquals(schema, all.path("schemaName").asText());
            List<String> order = new ArrayList<>();
            all.path("nodes").forEach(n -> order.add(n.path("viewName").asText()));
            assertEquals(3, order.size(), "only this schema's views: " + order);
            assertTrue(order.indexOf("base") < order.indexOf("top"), "parents first: " + order);

            Result table = run("refresh-all", "--schema", schema);
            ok(table);
            assertTrue(table.out().contains(schema + ".top") && table.out().contains("success"), table.out());

            TestDb.run("UPDATE " + schema + ".switch SET d = 0");
            Result failed = run("refresh-all", "--schema", schema);
            assertEquals(1, failed.code(), failed.out());
            assertTrue(failed.out().contains("division by zero"), failed.out());
            assertEquals(2, run("refresh-all", "--parallelism", "0").code(), "a bad parallelism is bad input");
        } finally {
            for (String v : List.of("top", "base", "beside")) {
                run("unregister", schema + "." + v);
            }
        }
    }

    @Test
    void refreshCascadesDownstreamAndExitsByTheCascadesOutcome() throws Exception {
        String base = matview("SELECT 1 AS id");
        String top = TestDb.uniqueName("clitop");
        TestDb.run("CREATE TABLE public." + top + "_switch (d int); INSERT INTO public." + top + "_switch VALUES (1);"
                + " CREATE MATERIALIZED VIEW public." + top + " AS SELECT id / (SELECT d FROM public." + top
                + "_switch) AS id FROM public." + base);
        ok(run("register", "--view", base));
        ok(run("register", "--view", top));

        Result cascade = run("refresh", "public." + base, "--cascade", "downstream");
        ok(cascade);
        assertTrue(cascade.out().contains("public." + top) && cascade.out().contains("success"), cascade.out());
        JsonNode json = run("refresh", "public." + base, "--cascade", "downstream", "--json").json();
        assertEquals("success", json.path("status").asText());
        assertEquals(2, json.path("nodes").size());

        TestDb.run("UPDATE public." + top + "_switch SET d = 0");
        Result failed = run("refresh", "public." + base, "--cascade", "downstream");
        assertEquals(1, failed.code(), failed.out());
        assertTrue(failed.out().contains("division by zero"), failed.out());
        assertEquals(2, run("refresh", "public." + base, "--cascade", "sideways").code());
        ok(run("unregister", "public." + top));
        ok(run("unregister", "public." + base));
    }

    @Test
    void errorsPrintTheProblemDetailAndExitWithTheirCode() {
        String mv = matview("SELECT 1 AS id");
        Result registered = run("register", "--view", mv);
        ok(registered);
        assertTrue(registered.out().contains("(auto)"), "the CLI registers in auto mode by default: " + registered.out());
        Result duplicate = run("register", "--view", mv);
        assertEquals(3, duplicate.code());
        assertTrue(duplicate.err().contains("already registered"), duplicate.err());

        String table = TestDb.uniqueName("tbl");
        TestDb.run("CREATE TABLE public." + table + " (id int)");
        Result notAView = run("register", "--view", table);
        assertEquals(4, notAView.code());
        assertEquals("no materialized view public." + table + " exists in the database", notAView.err().trim());

        assertEquals(2, run("register", "--view", "bad-name").code());
        assertEquals(2, run("register").code(), "missing --view is a usage error");
        assertEquals(2, run("update", "public." + mv).code());
        assertEquals(2, run("no-such-command").code());
        assertEquals(4, run("refresh", "public.nothing_here").code());
        assertEquals(4, run("jobs", "show", "00000000-0000-0000-0000-000000000000").code());
    }

    @Test
    void refreshSyncAsyncAndWaitWithTheirOutcomes() throws Exception {
        String mv = matview("SELECT 1 AS id");
        ok(run("register", "--view", mv));
        Result refreshed = run("refresh", "public." + mv);
        ok(refreshed);
        assertTrue(refreshed.out().matches("Refreshed public\\." + mv + " in \\d+ ms\\s*"), refreshed.out());
        JsonNode json = run("refresh", "public." + mv, "--json").json();
        assertTrue(json.has("registration") && json.has("durationMs") && json.has("runId"), json.toString());

        Result started = run("refresh", "public." + mv, "--async");
        ok(started);
        assertTrue(started.out().startsWith("Started refresh of public." + mv + ": run "), started.out());
        Result waited = run("refresh", "public." + mv, "--async", "--wait");
        ok(waited);
        assertTrue(waited.out().startsWith("Refreshed public." + mv + " in "), waited.out());
        assertTrue(waited.err().contains("Refreshing public." + mv), "progress line: " + waited.err());

        Result runs = run("runs", "public." + mv, "--limit", "2", "--json");
        assertEquals(2, runs.json().size());
        assertTrue(run("runs", "public." + mv, "--status", "success").out().contains("success"));

        try (TestDb other = TestDb.open()) {
            other.lockView("public", mv);
            Result busy = run("refresh", "public." + mv);
            assertEquals(3, busy.code());
            assertTrue(busy.err().contains("already in progress"), busy.err());
            other.unlockView("public", mv);
        }

        String failing = TestDb.uniqueName("t");
        TestDb.run("CREATE TABLE public." + failing + " (x int); INSERT INTO public." + failing + " VALUES (1)");
        String divides = matview("SELECT 1 / x AS q FROM public." + failing);
        TestDb.run("UPDATE public." + failing + " SET x = 0");
        ok(run("register", "--view", divides));
        Result failed = run("refresh", "public." + divides);
        assertEquals(1, failed.code());
        assertTrue(failed.err().contains("division by zero"), failed.err());
        Result failedWait = run("refresh", "public." + divides, "--async", "--wait");
        assertEquals(1, failedWait.code());
        assertTrue(failedWait.err().contains("ended error"), failedWait.err());
    }

    @Test
    void cancelARunningRefresh() throws Exception {
        String mv = matview("SELECT 1 AS id FROM pg_sleep(30) WITH NO DATA");
        ok(run("register", "--view", mv));
        String runId = run("refresh", "public." + mv, "--async", "--json").json().path("id").asText();
        await().until(() -> TestDb.runningRefreshesOf(mv) == 1);
        Result cancelled = run("cancel", runId);
        ok(cancelled);
        assertTrue(cancelled.out().startsWith("Cancellation requested for run " + runId), cancelled.out());
        await().until(() -> run("runs", "public." + mv, "--status", "cancelled", "--json").json().size() == 1);
        assertEquals(3, run("cancel", runId).code(), "a finished run cannot be cancelled");
    }

    @Test
    void scheduleUnscheduleSchedulesAndJobs() throws Exception {
        String mv = matview("SELECT 1 AS id");
        ok(run("register", "--view", mv));
        Result scheduled = run("schedule", "public." + mv, "--cron", "0 3 * * *", "--tz", "Europe/Berlin");
        ok(scheduled);
        assertTrue(scheduled.out().startsWith("Scheduled public." + mv + " '0 3 * * *' (Europe/Berlin), next run 20"),
                scheduled.out());
        assertEquals(2, run("schedule", "public." + mv, "--cron", "61 * * * *").code());
        assertTrue(run("schedules", "list").out().contains("matview-refresh:public." + mv));
        ok(run("unschedule", "public." + mv));
        assertEquals(4, run("unschedule", "public." + mv).code());

        String name = TestDb.uniqueName("cli_sched");
        JsonNode created = run("schedules", "create", "--name", name, "--payload", "{\"view_name\":\"" + mv + "\"}",
                "--cron", "@daily", "--json").json();
        String id = created.path("id").asText();
        assertEquals(3, run("schedules", "create", "--name", name, "--payload", "{\"view_name\":\"x\"}",
                "--cron", "@daily").code());
        assertTrue(run("schedules", "disable", id).out().startsWith("Disabled schedule " + name));
        assertTrue(run("schedules", "enable", id).out().startsWith("Enabled schedule " + name));
        ok(run("schedules", "show", id));
        ok(run("schedules", "delete", id));
        assertEquals(4, run("schedules", "delete", id).code());

        String job = java.util.UUID.randomUUID().toString();
        TestDb.run("INSERT INTO _ayb_jobs (id, type, payload, state, run_at) VALUES ('" + job
                + "', 'materialized_view_refresh', '{\"view_name\":\"" + mv + "\"}', 'queued', now() + interval '1 day')");
        assertTrue(run("jobs", "list", "--state", "queued", "--limit", "500").out().contains(job));
        Result cancelled = run("jobs", "cancel", job);
        assertEquals("Canceled job " + job, cancelled.out().trim());
        assertTrue(run("jobs", "retry", job).out().startsWith("Queued job " + job));
        assertEquals(2, run("jobs", "list", "--state", "sleeping").code());
        assertTrue(run("jobs", "list", "--type", "no_such_type").out().contains("No jobs."));
    }

    @Test
    void eventsFollowsTheStream() throws Exception {
        String mv = matview("SELECT 1 AS id");
        ok(run("register", "--view", mv));
        CompletableFuture<Result> events = CompletableFuture.supplyAsync(() -> run("events", "--count", "2"));
        await().pollDelay(java.time.Duration.ofMillis(500)).until(() -> true);
        String runId = run("refresh", "public." + mv, "--json").json().path("runId").asText();
        Result followed = events.get(20, java.util.concurrent.TimeUnit.SECONDS);
        ok(followed);
        assertTrue(followed.out().contains("run-started") && followed.out().contains("run-finished"), followed.out());
        assertTrue(followed.out().contains(runId));

        // A cascade: its start and end, each a line of its own; the node's run between them.
        CompletableFuture<Result> cascadeEvents = CompletableFuture.supplyAsync(() -> run("events", "--count", "4"));
        await().pollDelay(java.time.Duration.ofMillis(500)).until(() -> true);
        String cascadeId = run("refresh", "public." + mv, "--cascade", "downstream", "--json").json().path("id").asText();
        Result cascade = cascadeEvents.get(20, java.util.concurrent.TimeUnit.SECONDS);
        ok(cascade);
        List<String> lines = cascade.out().lines().toList();
        assertTrue(lines.get(0).contains("cascade-started") && lines.get(0).contains("cascade downstream")
                && lines.get(0).contains("1 view(s)") && lines.get(0).contains(cascadeId), cascade.out());
        assertTrue(lines.get(3).contains("cascade-finished") && lines.get(3).contains("success"), cascade.out());
    }

    @Test
    void configurationComesFromFlagsThenEnvironmentThenTheConfigFile() throws Exception {
        Map<String, String> env = Map.of("MATVIEWS_URL", service.toString());
        ok(runWith(env, null, "list"));
        Path config = Files.createTempFile("matviews", ".properties");
        Files.writeString(config, "url=" + service + "\n");
        ok(runWith(Map.of(), config, "list"));
        Result unreachable = runWith(Map.of("MATVIEWS_URL", "http://127.0.0.1:9"), config, "list");
        assertEquals(5, unreachable.code(), "the environment wins over the file");
        assertTrue(unreachable.err().startsWith("Cannot reach the matviews service at http://127.0.0.1:9"));
        ok(runWith(Map.of("MATVIEWS_URL", "http://127.0.0.1:9"), config, "list", "--url", service.toString()));
        assertEquals(2, runWith(Map.of(), null, "list", "--url", "not a url").code());
    }

    @Test
    void helpAndCompletionAreThere() {
        Result help = runWith(Map.of(), null, "--help");
        ok(help);
        assertTrue(help.out().contains("Exit codes") && help.out().contains("Examples"));
        Result refreshHelp = runWith(Map.of(), null, "refresh", "--help");
        ok(refreshHelp);
        assertTrue(refreshHelp.out().contains("--async"));
        Result completion = runWith(Map.of(), null, "generate-completion");
        ok(completion);
        assertTrue(completion.out().contains("complete"));
    }
}
