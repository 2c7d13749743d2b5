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

    /** Sends a synchronous refresh; closing the socket is a client with a timeout giving up. */
    private static Socket startRefresh(String id) throws IOException {
        Socket socket = new Socket("localhost", RestAssured.port);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /api/admin/matviews/" + id + "/refresh HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    /** The service's statements starting with {@code prefix} that wait for a lock. */
    private static long waitingOnALock(String prefix) {
        return TestDb.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                + " AND wait_event_type = 'Lock' AND query LIKE '" + prefix + "%'");
    }

    private static long active(String prefix) {
        return TestDb.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '"
                + prefix + "%' AND pid <> pg_backend_pid()");
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
            try (Socket client = startRefresh(id)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> waitingOnALock("WITH pre AS") == 1);
            }
            // the client's cancel ends the preflight while the row is still held
            await().atMost(Duration.ofSeconds(5)).until(() -> active("WITH pre AS") == 0);
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
            try (Socket client = startRefresh(id)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> waitingOnALock("SELECT set_config") == 1);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> TestDb.runningRefreshesOf(mv) == 0);
            reader.exec("ROLLBACK");
        }
        laterRefreshesAllSucceed(id);
    }

    @Test
    void aClientGoneWhileTheSuccessIsRecorded() throws Exception {
        String mv = view("SELECT 1 AS id");
        String id = Api.register("public", mv, "standard");
        try (TestDb holder = TestDb.open(); TestDb reader = TestDb.open()) {
            reader.exec("BEGIN; SELECT count(*) FROM public." + mv);
            try (Socket client = startRefresh(id)) {
                // REFRESH waits for the reader; meanwhile the registration row is taken, so once
                // REFRESH has run, its success record waits for the row
                await().atMost(Duration.ofSeconds(10)).until(() -> waitingOnALock("SELECT set_config") == 1);
                holder.exec("BEGIN; SELECT 1 FROM _ayb_matview_refreshes WHERE id = '" + id + "' FOR UPDATE");
                reader.exec("ROLLBACK");
                await().atMost(Duration.ofSeconds(10)).until(() -> TestDb.count("SELECT count(*) FROM pg_locks"
                        + " WHERE locktype = 'transactionid' AND NOT granted") == 1);
            }
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
