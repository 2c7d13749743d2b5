package dev.matviews.events;

import dev.matviews.support.SecuredProfile;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quiet event streams get heartbeats (proxies cut idle ones), a client that went away frees its
 * slot, and one token cannot take every slot: production access rules, a 1 s heartbeat, two
 * streams per principal.
 */
@QuarkusTest
@TestProfile(StreamHeartbeatTest.Heartbeats.class)
class StreamHeartbeatTest {

    public static class Heartbeats extends SecuredProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(super.getConfigOverrides());
            config.put("matviews.events.heartbeat", "1s");
            config.put("matviews.events.max-streams-per-principal", "2");
            config.put("matviews.events.max-streams", "10");
            return config;
        }
    }

    @TestHTTPResource("/api/admin/matviews/events")
    URI events;
    @Inject
    RunEvents runEvents;

    private static String login(String password, String from) {
        return given().header("X-Forwarded-For", from).contentType(ContentType.JSON)
                .body("{\"password\":\"" + password + "\"}").post("/api/admin/auth").then().statusCode(200)
                .extract().path("token");
    }

    private Socket open(String token) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(events.getHost(), events.getPort()));
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(("GET " + events.getPath() + " HTTP/1.1\r\nHost: localhost\r\n"
                + "Accept: text/event-stream\r\nAuthorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    /** What the stream sent until {@code text}, or for at most 10 s. */
    private static String readUntil(InputStream in, String text) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!seen.toString(StandardCharsets.UTF_8).contains(text) && System.nanoTime() < deadline) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
        }
        return seen.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aQuietStreamGetsHeartbeatsAndAClientThatWentAwayFreesItsSlot() throws Exception {
        String token = login("viewer-secret", "198.51.100.1");
        await().atMost(Duration.ofSeconds(10)).until(() -> runEvents.openStreams() == 0);
        Socket socket = open(token);
        long opened = System.nanoTime();
        String head = readUntil(socket.getInputStream(), "\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        // nothing happens meanwhile: the stream is quiet, yet a comment line arrives within about a second
        String body = readUntil(socket.getInputStream(), "heartbeat\n");
        assertTrue(body.matches("(?s).*\n:\\s?heartbeat\n.*"), body);
        assertTrue(Duration.ofNanos(System.nanoTime() - opened).toMillis() < 5000, "within the heartbeat period");
        String again = readUntil(socket.getInputStream(), "heartbeat\n");
        assertTrue(again.contains("heartbeat"), "and again: " + again);
        assertTrue(runEvents.openStreams() == 1);
        // the client vanishes (its socket reset, no goodbye): the next heartbeat's write fails and frees the slot
        socket.setSoLinger(true, 0);
        socket.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> runEvents.openStreams() == 0);
    }

    @Test
    void oneTokenCannotTakeEverySlot() throws Exception {
        String greedy = login("viewer-secret", "198.51.100.2");
        String other = login("admin-secret", "198.51.100.3");
        await().atMost(Duration.ofSeconds(10)).until(() -> runEvents.openStreams() == 0);
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                Socket s = open(greedy);
                assertTrue(readUntil(s.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
                sockets.add(s);
            }
            given().header("Authorization", "Bearer " + greedy).get(events).then().statusCode(503)
                    .contentType("application/problem+json").header("Retry-After", notNullValue())
                    .body("type", equalTo("urn:matviews:problem:too-many-streams"))
                    .body("detail", containsString("max-streams-per-principal"));
            // the instance has room, and another token gets it
            Socket s = open(other);
            assertTrue(readUntil(s.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
            sockets.add(s);
            // a closed stream gives its share back
            sockets.remove(0).close();
            await().atMost(Duration.ofSeconds(10)).until(() -> runEvents.openStreams() == 2);
            Socket back = open(greedy);
            assertTrue(readUntil(back.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
            sockets.add(back);
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
