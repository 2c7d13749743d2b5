package dev.matviews.incremental;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.core.json.JsonObject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A freshness target on an incremental view that reads another incremental view: under random
 * writes to the first one's source, the second's lag stays under its target, its data timestamp
 * never claims a write its rows lack, and the keeper keeps it by incremental applies (a cascade
 * through its source), not a refresh per write.
 */
@QuarkusTest
class IncrementalTargetTest {

    static final double TOLERANCE_SECONDS = 0.5;

    private static Connection connect() throws SQLException {
        var config = ConfigProvider.getConfig();
        Properties props = new Properties();
        props.setProperty("user", IncrementalViewTest.ROLE);
        props.setProperty("password", config.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
        return DriverManager.getConnection(config.getValue("quarkus.datasource.jdbc.url", String.class), props);
    }

    @Test
    void aThreeSecondTargetOnAnIncrementalViewIsKeptByIncrementalApplies() throws Exception {
        String s = TestDb.uniqueName("inct");
        TestDb.runAsSuperuser("CREATE SCHEMA " + s + " AUTHORIZATION " + IncrementalViewTest.ROLE);
        TestDb.run("CREATE TABLE " + s + ".src (id bigint PRIMARY KEY, k int NOT NULL);"
                + " INSERT INTO " + s + ".src SELECT i, i % 3 FROM generate_series(1, 30) i;"
                + " CREATE TABLE " + s + ".names (k int, label text);"
                + " INSERT INTO " + s + ".names VALUES (0, 'zero'), (1, 'one'), (2, 'two')");
        String a = IncrementalViewTest.register(s, "a", "SELECT k, count(*) AS n, max(id) AS last_id FROM " + s + ".src GROUP BY k")
                .statusCode(201).extract().path("id");
        String definition = "SELECT a.k, a.n, a.last_id, l.label FROM " + s + ".a a JOIN " + s + ".names l ON l.k = a.k";
        String b = given().contentType(ContentType.JSON)
                .body(new JsonObject().put("schema", s).put("viewName", "b").put("refreshMode", "incremental")
                        .put("definition", definition).put("targetLag", "3s").encode())
                .post(Api.BASE).then().statusCode(201).body("targetLag", equalTo("PT3S")).extract().path("id");

        // writes committed, each with the database time just after its commit
        ConcurrentLinkedQueue<long[]> committed = new ConcurrentLinkedQueue<>();
        AtomicLong next = new AtomicLong(31);
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
        Connection w = connect();
        Statement ws = w.createStatement();
        writer.scheduleWithFixedDelay(() -> {
            try {
                long id = next.getAndIncrement();
                ws.execute("INSERT INTO " + s + ".src VALUES (" + id + ", " + ThreadLocalRandom.current().nextInt(3) + ")");
                try (ResultSet rs = ws.executeQuery("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")) {
                    rs.next();
                    committed.add(new long[]{id, rs.getLong(1)});
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, 0, 150, TimeUnit.MILLISECONDS);
        double[] maxLag = {0};
        List<String> violations = new ArrayList<>();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs"
                    + " WHERE registration_id = '" + b + "' AND status = 'success'") > 0);
            await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50)).during(Duration.ofSeconds(12))
                    .atMost(Duration.ofSeconds(17)).untilAsserted(() -> {
                        try (ResultSet rs = st.executeQuery("SELECT r.lag_seconds, (extract(epoch FROM r.data_timestamp) * 1000000)::bigint,"
                                + " (SELECT max(last_id) FROM " + s + ".b) FROM _matviews_registrations r WHERE r.id = '" + b + "'")) {
                            rs.next();
                            maxLag[0] = Math.max(maxLag[0], rs.getDouble(1));
                            long dataMicros = rs.getLong(2);
                            long lastId = rs.getLong(3);
                            for (long[] write : committed) {
                                if (write[1] < dataMicros && write[0] > lastId) {
                                    violations.add("write " + write[0] + " committed before b's data timestamp, b's last id "
                                            + lastId);
                                }
                            }
                        }
                        assertTrue(violations.isEmpty(), violations.toString());
                        assertTrue(maxLag[0] <= 3 + TOLERANCE_SECONDS, "lag reached " + maxLag[0] + " s");
                    });
        } finally {
            writer.shutdown();
            assertTrue(writer.awaitTermination(10, TimeUnit.SECONDS));
            w.close();
        }
        assertTrue(committed.size() > 40, committed.size() + " writes");
        long applied = TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + b
                + "' AND status = 'success' AND mode_reason LIKE 'incremental: applied%'");
        long appliedA = TestDb.count("SELECT count(*) FROM _ayb_matview_refresh_runs WHERE registration_id = '" + a
                + "' AND status = 'success' AND trigger = 'cascade' AND mode_reason LIKE 'incremental: applied%'");
        assertTrue(applied >= 3 && applied < committed.size(), applied + " incremental refreshes of b for "
                + committed.size() + " writes");
        assertTrue(appliedA >= 3, "a refreshed incrementally in b's cascades: " + appliedA);
        Api.refresh(a).statusCode(200);
        Api.refresh(b).statusCode(200);
        assertEquals(0, IncrementalViewTest.difference(s + ".b", List.of("k", "n", "last_id", "label"), definition));
    }
}
