package dev.matviews.events;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.matviews.events.StreamLimitsTest.open;
import static dev.matviews.events.StreamLimitsTest.reading;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

/** At most matviews.events.max-streams event streams per instance; beyond it a 503 problem. */
@QuarkusTest
@TestProfile(StreamCapTest.ThreeStreams.class)
class StreamCapTest {

    private static final int MAX_STREAMS = 3;

    public static class ThreeStreams implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("matviews.events.max-streams", Integer.toString(MAX_STREAMS));
        }
    }

    @TestHTTPResource("/api/admin/matviews/events")
    URI events;
    @Inject
    RunEvents runEvents;

    @Test
    void streamsBeyondTheCapAre503AndAClosedOneFreesItsPlace() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> runEvents.openStreams() == 0);
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_STREAMS; i++) {
                sockets.add(reading(open(events, null)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> runEvents.openStreams() == MAX_STREAMS);
            given().get(events).then().statusCode(503).contentType("application/problem+json")
                    .header("Retry-After", notNullValue())
                    .body("type", equalTo("urn:matviews:problem:too-many-streams"));
            sockets.remove(0).close();
            await().atMost(Duration.ofSeconds(10)).until(() -> runEvents.openStreams() == MAX_STREAMS - 1);
            sockets.add(reading(open(events, null)));
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
