package dev.matviews.db;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * matviews on a database that an application already uses (src/test/resources/lived-in), as a
 * plain role: start-up, its own migration history, register, refresh, schedule, refusals, and a
 * restart, each followed by proof that no application object, history or row changed.
 */
abstract class LivedInChecks {

    static final String PROBLEM = "application/problem+json";
    static final String NOT_PERMITTED = "urn:matviews:problem:refresh-not-permitted";

    @Inject
    SchemaMigration migration;

    @Test
    void startsAsAPlainRoleAndIsReady() {
        try (TestDb db = TestDb.open()) {
            assertEquals("matviews_svc super=f createrole=f createdb=f",
                    db.queryString("SELECT format('%s super=%s createrole=%s createdb=%s', rolname, rolsuper,"
                            + " rolcreaterole, rolcreatedb) FROM pg_roles WHERE rolname = current_user"));
        }
        given().get("/q/health/ready").then().statusCode(200);
        assertApplicationUnchanged();
    }

    @Test
    void keepsItsOwnMigrationHistoryInItsOwnSchema() {
        try (TestDb db = TestDb.openAsSuperuser()) {
            // a baseline (public already held the application's objects), then every migration
            assertEquals("0 BASELINE true", db.queryString("SELECT version || ' ' || type || ' ' || success"
                    + " FROM public._matviews_schema_history ORDER BY installed_rank LIMIT 1"));
            assertEquals("1 2 3 4", db.queryString("SELECT string_agg(version, ' ' ORDER BY installed_rank)"
                    + " FROM public._matviews_schema_history WHERE type = 'SQL' AND success AND version::int <= 4"));
            // in matviews.schema, whatever the role's search_path ("Reporting" first) says
            assertEquals(6, db.queryLong("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                    + " AND relowner = 'matviews_svc'::regrole AND relname IN ('_ayb_matview_refreshes',"
                    + " '_ayb_matview_refresh_runs', '_ayb_jobs', '_ayb_job_schedules', '_ayb_matview_run_event_seq',"
                    + " '_matviews_schema_history')"));
        }
        assertApplicationUnchanged();
    }

    @Test
    void migratingAgainAtARestartChangesNothing() {
        String before = history();
        assertEquals(0, migration.migrate().migrationsExecuted);
        assertEquals(0, migration.migrate().migrationsExecuted);
        assertEquals(before, history());
        assertApplicationUnchanged();
    }

    /** Explain reads this version's query trees (their format changes between PostgreSQL lines). */
    @Test
    void explainsDefinitionsAsThisVersionParsesThem() {
        given().contentType(ContentType.JSON).body(new io.vertx.core.json.JsonObject().put("definition",
                        "SELECT o.customer, count(*) AS n, sum(i.qty) AS qty, avg(o.amount) AS mean, min(o.placed_at) AS first,"
                                + " max(i.\"SKU\") AS top FROM public.orders o JOIN public.\"Order Items\" i ON i.order_id = o.id"
                                + " WHERE o.amount > 10 AND i.\"SKU\" IS NOT NULL GROUP BY o.customer").encode())
                .post(Api.BASE + "/explain").then().statusCode(200)
                .body("incrementalEligible", equalTo(true)).body("reasons", org.hamcrest.Matchers.empty())
                .body("sources", equalTo(java.util.List.of("public.orders", "public.Order Items")));
        given().contentType(ContentType.JSON).body(new io.vertx.core.json.JsonObject().put("definition",
                        "SELECT b.id, now() AS at, row_number() OVER () AS r FROM public.big_orders b"
                                + " LEFT JOIN public.\"Order Items\" i ON i.order_id = b.id").encode())
                .post(Api.BASE + "/explain").then().statusCode(200)
                .body("incrementalEligible", equalTo(false))
                .body("reasons", org.hamcrest.Matchers.hasItems(containsString("window function"),
                        containsString("the view public.big_orders"), containsString("LEFT outer join"),
                        containsString("stable function pg_catalog.now")));
        assertApplicationUnchanged();
    }

    @Test
    void refreshesTheViewsItsRoleMayRefresh() {
        // owned by the service's role
        Api.refresh(registration("public", "order_counts", "standard")).statusCode(200)
                .body("registration.lastRefreshStatus", equalTo("success"));
        // owned by a role it is a member of, in a schema whose name needs quoting
        Api.refresh(registration("Reporting", "TeamTotals", "concurrent")).statusCode(200)
                .body("registration.lastRefreshStatus", equalTo("success"));
        assertApplicationUnchanged();
    }

    @Test
    void refusesAViewOwnedByAnotherRoleNamingTheMissingPrivilege() {
        String need = serverVersion() >= 170000 ? "the MAINTAIN privilege on public.customer_totals" : "to own";
        String id = registration("public", "customer_totals", "concurrent");
        String runId = Api.refresh(id).statusCode(409).contentType(PROBLEM)
                .body("type", equalTo(NOT_PERMITTED))
                .body("sqlState", equalTo("42501"))
                .body("detail", containsString("role matviews_svc may not refresh"))
                .body("detail", containsString(need))
                .body("detail", containsString("app_owner"))
                .body("runId", notNullValue())
                .extract().path("runId");
        given().get("/api/admin/matview-runs/" + runId).then().statusCode(200)
                .body("status", equalTo("error")).body("sqlState", equalTo("42501"))
                .body("error", containsString(need));
        Api.get(id).statusCode(200).body("lastRefreshStatus", equalTo("error"))
                .body("lastRefreshError", containsString(need));

        // no USAGE on the schema that holds it
        Api.refresh(registration("private_area", "secret_totals", "standard")).statusCode(409)
                .body("type", equalTo(NOT_PERMITTED))
                .body("detail", containsString("the USAGE privilege on schema private_area"));

        // MAINTAIN (granted from PostgreSQL 17) is enough; before 17 only ownership is
        String daily = registration("Reporting", "DailyTotals", "concurrent");
        if (serverVersion() >= 170000) {
            Api.refresh(daily).statusCode(200).body("registration.lastRefreshStatus", equalTo("success"));
        } else {
            Api.refresh(daily).statusCode(409).body("type", equalTo(NOT_PERMITTED)).body("detail", containsString("to own"));
        }
        // the view's owner may not read what the view reads: PostgreSQL refuses the REFRESH itself
        Api.refresh(registration("Reporting", "ItemCounts", "standard")).statusCode(409)
                .body("type", equalTo(NOT_PERMITTED))
                .body("detail", containsString("permission denied for table Order Items"));

        try (TestDb db = TestDb.openAsSuperuser()) {
            assertEquals(0, db.queryLong("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
                    + " AND classid = " + AdvisoryLocks.NAMESPACE + " AND objid IN ('public.customer_totals'::regclass,"
                    + " 'private_area.secret_totals'::regclass, '\"Reporting\".\"DailyTotals\"'::regclass,"
                    + " '\"Reporting\".\"ItemCounts\"'::regclass)"),
                    "a refused refresh released its lock");
        }
        assertApplicationUnchanged();
    }

    @Test
    void schedulesRefreshesAndNeverRetriesARefusal() {
        String counts = registration("public", "order_counts", "standard");
        schedule(counts);
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> runs(counts).getList("items.findAll {"
                    + " it.trigger == 'schedule' && it.status == 'success' }").size() > 0);
        } finally {
            given().delete(Api.BASE + "/" + counts + "/schedule").then().statusCode(204);
        }

        String refused = registration("public", "customer_totals", "concurrent");
        String scheduleId = schedule(refused);
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> given().queryParam("scheduleId", scheduleId)
                    .queryParam("state", "failed").get("/api/admin/jobs").then().statusCode(200).extract()
                    .jsonPath().getList("$").size() > 0);
            JsonPath failed = given().queryParam("scheduleId", scheduleId).queryParam("state", "failed")
                    .get("/api/admin/jobs").then().extract().jsonPath();
            assertEquals(1, failed.getInt("[0].attempts"), "a refusal is permanent: no retry");
            assertTrue(failed.getString("[0].lastError").contains("may not refresh"), failed.getString("[0].lastError"));
        } finally {
            given().delete(Api.BASE + "/" + refused + "/schedule").then().statusCode(204);
        }
        assertApplicationUnchanged();
    }

    /** The application's objects, histories and data are exactly as they were before matviews first started. */
    static void assertApplicationUnchanged() {
        try (TestDb db = TestDb.openAsSuperuser()) {
            assertEquals(db.queryString("SELECT fingerprint FROM lived_in.baseline"),
                    db.queryString("SELECT lived_in.fingerprint()"));
        }
    }

    static int serverVersion() {
        return (int) TestDb.count("SELECT current_setting('server_version_num')::int");
    }

    /** The id of the view's registration, registering it if this database has not yet. */
    static String registration(String schema, String view, String mode) {
        Response created = given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + schema + "\",\"viewName\":\"" + view + "\",\"refreshMode\":\"" + mode + "\"}")
                .post(Api.BASE);
        if (created.statusCode() == 201) {
            return created.path("id");
        }
        assertEquals(409, created.statusCode(), created.asString());
        return given().get(Api.BASE).then().statusCode(200).extract().jsonPath()
                .param("s", schema).param("v", view)
                .getString("items.find { it.schemaName == s && it.viewName == v }.id");
    }

    private static String schedule(String id) {
        return given().contentType(ContentType.JSON).body("{\"cronExpr\":\"@every 1s\"}")
                .put(Api.BASE + "/" + id + "/schedule").then().statusCode(200).extract().path("id");
    }

    private static JsonPath runs(String id) {
        return given().get(Api.BASE + "/" + id + "/runs").then().statusCode(200).extract().jsonPath();
    }

    private static String history() {
        try (TestDb db = TestDb.openAsSuperuser()) {
            return db.queryString("SELECT string_agg(h::text, E'\\n' ORDER BY installed_rank)"
                    + " FROM public._matviews_schema_history h");
        }
    }
}
