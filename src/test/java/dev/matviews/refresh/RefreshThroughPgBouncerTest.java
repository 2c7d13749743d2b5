package dev.matviews.refresh;

import dev.matviews.support.ThroughPgBouncer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.time.Duration;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.restassured.http.ContentType;
import io.vertx.core.json.JsonObject;
import org.eclipse.microprofile.config.ConfigProvider;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.startsWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every refresh test again, with the service reaching PostgreSQL only through a real PgBouncer in
 * session mode with its default settings (Debian's package): it refused the Vert.x client's
 * start-up parameters, so the service never became ready.
 */
@QuarkusTest
@TestProfile(ThroughPgBouncer.SessionMode.class)
@EnabledIf(value = "dev.matviews.support.PgBouncer#usable", disabledReason = dev.matviews.support.PgBouncer.MISSING)
class RefreshThroughPgBouncerTest extends RefreshTest {

    @Inject
    Pool pool;

    @Test
    void settingsAPoolerRefusesAtStartUpAreSetOnEveryPooledConnection() {
        for (int i = 0; i < 3; i++) {
            Row row = pool.query("SELECT current_setting('plan_cache_mode'), current_setting('IntervalStyle'),"
                            + " current_setting('extra_float_digits'), current_setting('application_name')")
                    .execute().await().atMost(Duration.ofSeconds(10)).iterator().next();
            assertEquals("force_generic_plan", row.getString(0));
            assertEquals("postgres", row.getString(1));
            assertEquals("2", row.getString(2));
        }
    }

    /**
     * An incremental view's apply keeps a prepared statement per database session: through the
     * pooler (a server connection shared by many client connections over time) every refresh
     * still applies the changes, equal to the definition.
     */
    @Test
    void incrementalViewsRefreshThroughThePooler() {
        String role = ConfigProvider.getConfig().getValue("quarkus.datasource.username", String.class);
        String s = TestDb.uniqueName("bouncer_inc");
        TestDb.runAsSuperuser("CREATE SCHEMA " + s + " AUTHORIZATION " + role);
        TestDb.run("CREATE TABLE " + s + ".t (g int, v int); INSERT INTO " + s + ".t SELECT i % 4, i FROM generate_series(1, 100) i");
        String definition = "SELECT g, count(*) AS n, sum(v) AS total FROM " + s + ".t GROUP BY g";
        String id = given().contentType(ContentType.JSON)
                .body(new JsonObject().put("schema", s).put("viewName", "agg").put("refreshMode", "incremental")
                        .put("definition", definition).encode())
                .post(Api.BASE).then().statusCode(201).extract().path("id");
        for (int i = 0; i < 8; i++) {
            TestDb.run("INSERT INTO " + s + ".t VALUES (" + (i % 5) + ", " + i + "); DELETE FROM " + s + ".t WHERE ctid ="
                    + " (SELECT ctid FROM " + s + ".t WHERE g = " + (i % 4) + " LIMIT 1)");
            String run = Api.refresh(id).statusCode(200).extract().path("runId");
            given().get("/api/admin/matview-runs/" + run).then().statusCode(200)
                    .body("modeReason", startsWith("incremental: applied 2 change rows"));
            assertEquals(0, TestDb.count("SELECT count(*) FROM ((SELECT g, n, total FROM " + s + ".agg EXCEPT ALL " + definition
                    + ") UNION ALL (" + definition + " EXCEPT ALL SELECT g, n, total FROM " + s + ".agg)) x"));
        }
    }
}
