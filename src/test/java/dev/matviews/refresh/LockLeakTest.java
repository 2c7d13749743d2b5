package dev.matviews.refresh;

import dev.matviews.support.Api;
import dev.matviews.support.TestDb;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A client that gives up at any step of a refresh, or a cancel that lands in any step, never
 * leaves the view's advisory lock held on a pooled connection: pg_locks, read from a separate
 * session, shows none of matviews' locks once the refresh has ended, and every later refresh of
 * the view gets the lock.
 */
@QuarkusTest
class LockLeakTest {

    @AfterEach
    void noLockOfOursIsLeftBehind() {
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.ourAdvisoryLocks() == 0);
    }

    /** Sends a synchronous refresh, waits, then drops the connection as a client with a timeout does. */
    private static void refreshAndGiveUpAfter(String id, Duration wait) throws IOException, InterruptedException {
        try (Socket socket = new Socket("localhost", RestAssured.port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/admin/matviews/" + id + "/refresh HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(wait.toMillis());
        }
    }

    /** Every one of many later refreshes gets the lock: no pooled connection kept it. */
    private static void laterRefreshesAllSucceed(String id) {
        await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.ourAdvisoryLocks() == 0);
        for (int i = 0; i < 12; i++) {
            Api.refresh(id).statusCode(200).body("registration.lastRefreshStatus", equalTo("success"));
        }
        assertEquals(0, TestDb.ourAdvisoryLocks());
    }

    private static String view(String query) {
        String mv = TestDb.uniqueName("leak");
        TestDb.run("CREATE MATERIALIZED VIEW public." + mv + " AS " + query);
        return mv;
    }

    /** The reproduction from the field: the registration row is held while the preflight runs. */
    @Test
    void aClientGoneWhileThePreflightWaitsOnTheRegistrationRow() throws Exception {
        String id = Api.register("public", view("SELECT 1 AS id"), "standard");
        try (TestDb holder = TestDb.open()) {
            holder.exec("BEGIN; SELECT 1 FROM _ayb_matview_refreshes WHERE id = '" + id + "' FOR UPDATE");
            refreshAndGiveUpAfter(id, Duration.ofSeconds(2));
            // the client's cancel has ended the preflight before the row is free
            await().atMost(Duration.ofSeconds(5)).until(() -> TestDb.count("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE state = 'active' AND query LIKE 'WITH pre AS%'") == 0);
            holder.exec("ROLLBACK");
        }
        laterRefreshesAllSucceed(id);
    }

    @Test
    void aClientGoneWhileTheRefreshWaitsOnTheViewsTableLock() throws Exception {
        String mv = view("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        try (TestDb reader = TestDb.open()) {
            reader.exec("BEGIN; SELECT count(*) FROM public." + mv);   // ACCESS SHARE until the end
            refreshAndGiveUpAfter(id, Duration.ofMillis(1500));
            await().atMost(Duration.ofSeconds(5)).until(() -> TestDb.runningRefreshesOf(mv) == 0);
            reader.exec("ROLLBACK");
        }
        laterRefreshesAllSucceed(id);
    }

    @Test
    void aClientGoneWhileTheSuccessIsRecorded() throws Exception {
        String mv = view("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        // the success record waits on the registration row, which another session takes once REFRESH runs
        try (TestDb holder = TestDb.open(); TestDb reader = TestDb.open()) {
            reader.exec("BEGIN; SELECT count(*) FROM public." + mv);   // ACCESS SHARE until the end
            Thread worker = new Thread(() -> {
                try {
                    refreshAndGiveUpAfter(id, Duration.ofMillis(2500));
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            worker.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> TestDb.runningRefreshesOf(mv) == 1);
            holder.exec("BEGIN; SELECT 1 FROM _ayb_matview_refreshes WHERE id = '" + id + "' FOR UPDATE");
            reader.exec("ROLLBACK");
            worker.join();
            await().atMost(Duration.ofSeconds(5)).until(() -> TestDb.runningRefreshesOf(mv) == 0);
            holder.exec("ROLLBACK");
        }
        laterRefreshesAllSucceed(id);
    }

    @Test
    void aRunCancelThatLandsInEveryStep() throws Exception {
        String mv = view("SELECT 1 AS id FROM pg_sleep(0.05)");
        String id = Api.register("public", mv, "standard");
        // cancel whatever runs, as fast as possible, while refreshes go on: cancels land everywhere
        Thread canceller = new Thread(() -> {
            long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            while (System.nanoTime() < end) {
                String runId = given().get("/api/admin/matviews/" + id).then().extract().path("currentRunId");
                if (runId != null) {
                    given().post("/api/admin/matview-runs/" + runId + "/cancel");
                }
            }
        });
        canceller.start();
        long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (System.nanoTime() < end) {
            given().post("/api/admin/matviews/" + id + "/refresh");
        }
        canceller.join();
        laterRefreshesAllSucceed(id);
    }
}
