package dev.matviews.auth;

import io.quarkus.test.junit.QuarkusTest;
import dev.matviews.support.SecuredProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.smallrye.jwt.build.Jwt;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The production access rules, on every admin route the OpenAPI document lists. */
@QuarkusTest
@TestProfile(SecuredProfile.class)
class AuthTest {

    static final String KEY = SecuredProfile.KEY;

    private static String login(String password) {
        return given().contentType(ContentType.JSON).body("{\"password\":\"" + password + "\"}").post("/api/admin/auth")
                .then().statusCode(200).extract().path("token");
    }

    /** method, path with ids filled in, for every operation under /api/admin but the login. */
    private static List<String[]> routes() {
        JsonPath doc = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().jsonPath();
        Map<String, Map<String, Object>> paths = doc.getMap("paths");
        List<String[]> routes = new ArrayList<>();
        paths.forEach((path, ops) -> {
            if (!path.startsWith("/api/admin") || path.equals("/api/admin/auth")) {
                return;
            }
            for (String method : ops.keySet()) {
                if (Set.of("get", "post", "put", "delete", "patch").contains(method)) {
                    routes.add(new String[]{method.toUpperCase(), path.replaceAll("\\{[^}]+}", UUID.randomUUID().toString())});
                }
            }
        });
        assertTrue(routes.size() >= 20, "found " + routes.size());
        return routes;
    }

    private static Response call(String[] route, String token) {
        // respond-async: refresh-all would otherwise refresh every registration of the shared database first.
        var request = given().contentType(ContentType.JSON).body("{}").header("Last-Event-ID", "not-a-number")
                .header("Prefer", "respond-async");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request.request(route[0], route[1]);
    }

    @Test
    void everyAdminRouteNeedsATokenAndWritesNeedTheAdminRole() {
        String viewer = login("viewer-secret");
        String admin = login("admin-secret");
        for (String[] route : routes()) {
            String name = route[0] + " " + route[1];
            Response anonymous = call(route, null);
            assertEquals(401, anonymous.statusCode(), name);
            assertEquals("application/problem+json", anonymous.contentType(), name);

            int asViewer = call(route, viewer).statusCode();
            if (route[0].equals("GET")) {
                assertFalse(asViewer == 401 || asViewer == 403, name + " as viewer: " + asViewer);
            } else {
                assertEquals(403, asViewer, name + " as viewer");
            }
            Response adminAnswer = call(route, admin);
            int asAdmin = adminAnswer.statusCode();
            assertFalse(asAdmin == 401 || asAdmin == 403, name + " as admin: " + asAdmin);
            String started = adminAnswer.header("Location");
            if (asAdmin == 202 && started != null && started.contains("/api/admin/cascades/")) {
                // A cascade over the shared database's registrations: not this test's business.
                given().header("Authorization", "Bearer " + admin).post(started + "/cancel");
            }
        }
    }

    @Test
    void wrongPasswordsAre401AndForgedOrExpiredTokensAreRefused() {
        given().contentType(ContentType.JSON).body("{\"password\":\"nope\"}").post("/api/admin/auth").then()
                .statusCode(401).contentType("application/problem+json").body("type", equalTo("urn:matviews:problem:unauthorized"));
        given().contentType(ContentType.JSON).body("{}").post("/api/admin/auth").then().statusCode(400);
        given().header("Authorization", "Bearer not.a.token").get("/api/admin/matviews").then().statusCode(401);
        String forged = Jwt.issuer("matviews").subject("admin").groups(Set.of("admin")).signWithSecret("another-key-of-at-least-32-bytes-long!!");
        given().header("Authorization", "Bearer " + forged).get("/api/admin/matviews").then().statusCode(401);
        String expired = Jwt.issuer("matviews").subject("admin").groups(Set.of("admin")).expiresAt(System.currentTimeMillis() / 1000 - 600)
                .signWithSecret(KEY);
        given().header("Authorization", "Bearer " + expired).get("/api/admin/matviews").then().statusCode(401);
    }

    @Test
    void theSessionRouteNamesTheCallersRoleAndRefusesAnonymousCallers() {
        given().get("/api/admin/auth/session").then().statusCode(401).contentType("application/problem+json");
        given().auth().oauth2(login("viewer-secret")).get("/api/admin/auth/session").then().statusCode(200)
                .body("role", equalTo("viewer")).body("authRequired", equalTo(true));
        given().auth().oauth2(login("admin-secret")).get("/api/admin/auth/session").then().statusCode(200)
                .body("role", equalTo("admin")).body("authRequired", equalTo(true));
        given().auth().oauth2("not.a.token").get("/api/admin/auth/session").then().statusCode(401);
    }

    @Test
    void aTokenMintedByAnotherReplicaWithTheSameKeyIsAccepted() {
        // what another instance's POST /api/admin/auth returns: same issuer, same key
        String fromOtherReplica = Jwt.issuer("matviews").subject("admin").groups(Set.of("admin"))
                .claim(AuthService.PASSWORD_VERSION, AuthService.passwordVersion(KEY, "admin", "admin-secret")).signWithSecret(KEY);
        given().header("Authorization", "Bearer " + fromOtherReplica).get("/api/admin/matviews").then().statusCode(200);
        String viewerFromOther = Jwt.issuer("matviews").subject("viewer").groups(Set.of("viewer"))
                .claim(AuthService.PASSWORD_VERSION, AuthService.passwordVersion(KEY, "viewer", "viewer-secret")).signWithSecret(KEY);
        given().header("Authorization", "Bearer " + viewerFromOther).contentType(ContentType.JSON)
                .body("{\"viewName\":\"x\"}").post("/api/admin/matviews").then().statusCode(403)
                .contentType("application/problem+json");
    }

    @Test
    void tokensIssuedForAPasswordThatChangedAreRefused() {
        // issued by a replica that still had the old password, or before it changed here
        String beforeTheChange = Jwt.issuer("matviews").subject("admin").groups(Set.of("admin"))
                .claim(AuthService.PASSWORD_VERSION, AuthService.passwordVersion(KEY, "admin", "the-old-admin-password"))
                .signWithSecret(KEY);
        given().header("Authorization", "Bearer " + beforeTheChange).get("/api/admin/matviews").then().statusCode(401)
                .contentType("application/problem+json");
        String withoutAny = Jwt.issuer("matviews").subject("admin").groups(Set.of("admin")).signWithSecret(KEY);
        given().header("Authorization", "Bearer " + withoutAny).get("/api/admin/matviews").then().statusCode(401);
        // a viewer token cannot pass for an admin one by carrying the admin's fingerprint under the viewer's role
        String viewer = Jwt.issuer("matviews").subject("viewer").groups(Set.of("viewer"))
                .claim(AuthService.PASSWORD_VERSION, AuthService.passwordVersion(KEY, "admin", "admin-secret")).signWithSecret(KEY);
        given().header("Authorization", "Bearer " + viewer).get("/api/admin/matviews").then().statusCode(401);
        given().auth().oauth2(login("admin-secret")).get("/api/admin/matviews").then().statusCode(200);
    }

    @Test
    void theTokenAnswerIsNeverCached() {
        given().header("X-Forwarded-For", "198.51.100.77").contentType(ContentType.JSON)
                .body("{\"password\":\"viewer-secret\"}").post("/api/admin/auth").then().statusCode(200)
                .header("Cache-Control", equalTo("no-store")).header("Pragma", equalTo("no-cache"));
    }

    private static io.restassured.response.Response attempt(String from, String password) {
        return given().header("X-Forwarded-For", from).contentType(ContentType.JSON)
                .body("{\"password\":\"" + password + "\"}").post("/api/admin/auth");
    }

    @Test
    void parallelGuessesAreRefusedBeforeThePasswordIsCheckedAndAnAdminElsewhereStillLogsIn() throws Exception {
        String guesser = "203.0.113.7";
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(10);
        try {
            List<java.util.concurrent.Future<Integer>> answers = new ArrayList<>();
            long burstStarted = System.nanoTime();
            for (int i = 0; i < 40; i++) {
                String guess = "guess" + i;
                answers.add(pool.submit(() -> attempt(guesser, guess).statusCode()));
            }
            int checked = 0;
            int refused = 0;
            for (java.util.concurrent.Future<Integer> answer : answers) {
                int status = answer.get();
                checked += status == 401 ? 1 : 0;
                refused += status == 429 ? 1 : 0;
            }
            // Five free attempts and one that starts the backoff; a slow machine may see a backoff
            // of 1 s, then 2 s, 4 s ... run out during the burst, each letting exactly one more through.
            long burstMillis = java.time.Duration.ofNanos(System.nanoTime() - burstStarted).toMillis();
            int expiredBackoffs = 0;
            while (((1L << (expiredBackoffs + 1)) - 1) * 1000 <= burstMillis) {
                expiredBackoffs++;
            }
            assertTrue(checked >= 6 && checked <= 6 + expiredBackoffs,
                    checked + " attempts checked in a burst of " + burstMillis + " ms");
            assertEquals(40 - checked, refused);
        } finally {
            pool.shutdown();
        }
        // The right password is not even looked at while the guesser waits: a guess cannot win by luck.
        long started = System.nanoTime();
        io.restassured.response.Response held = attempt(guesser, "admin-secret");
        held.then().statusCode(429).contentType("application/problem+json")
                .header("Retry-After", notNullValue())
                .body("type", equalTo("urn:matviews:problem:too-many-login-attempts"));
        assertTrue(java.time.Duration.ofNanos(System.nanoTime() - started).toMillis() < 500, "refused at once");
        // Someone else behind the same ingress is not held up.
        attempt("198.51.100.20", "admin-secret").then().statusCode(200);
        // After the wait, the guesser's next attempt is checked again. (The wait is the one the refusal
        // above announced: asking again could find it already over on a slow machine.)
        long retryAfter = Long.parseLong(held.header("Retry-After"));
        await().atMost(java.time.Duration.ofSeconds(retryAfter + 5)).pollInterval(java.time.Duration.ofMillis(200))
                .until(() -> attempt(guesser, "admin-secret").statusCode() == 200);
    }

    @Test
    void healthAndMetricsStayOpen() {
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
    }
}
