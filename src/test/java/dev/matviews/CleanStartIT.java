package dev.matviews;

import dev.matviews.devdb.EmbeddedPostgresSetup;
import dev.matviews.support.LivedInDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packaged application (target/quarkus-app), configured as deploy/matviews.yml configures it,
 * starts on a lived-in database as its plain role, serves concurrent requests (so its pool opens
 * several connections) and stops on SIGTERM, all without logging a single warning or error.
 */
class CleanStartIT {

    private static final Path APP = Path.of("target", "quarkus-app", "quarkus-run.jar");
    private static final Path LOG = Path.of("target", "clean-start-it.log");
    /** Loggers whose warnings are expected; none in production (the open-access one is dev/test only). */
    private static final List<String> ALLOWED_WARNINGS = List.of();
    private static final Pattern JSON_LEVEL = Pattern.compile("\"level\":\"([A-Z]+)\"");
    private static final Pattern JSON_LOGGER = Pattern.compile("\"loggerName\":\"([^\"]+)\"");

    @Test
    void thePackagedApplicationStartsServesAndStopsWithoutAWarning() throws Exception {
        assertTrue(Files.exists(APP), "built by the package phase");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            String url = "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
            EmbeddedPostgresSetup.Login login = new LivedInDatabase().prepare(url, LivedInDatabase.SUPERUSER);
            int port = freePort();
            ProcessBuilder builder = new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", APP.toString())
                    .redirectErrorStream(true).redirectOutput(LOG.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(k -> k.startsWith("QUARKUS_") || k.startsWith("MATVIEWS_") || k.startsWith("MP_JWT")
                    || k.startsWith("SMALLRYE_"));
            env.put("QUARKUS_DATASOURCE_REACTIVE_URL", url.substring("jdbc:".length()));
            env.put("QUARKUS_DATASOURCE_JDBC_URL", url);
            env.put("QUARKUS_DATASOURCE_USERNAME", login.user());
            env.put("QUARKUS_DATASOURCE_PASSWORD", login.password());
            env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
            int management = freePort();
            env.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(management));
            env.put("MATVIEWS_AUTH_ADMIN_PASSWORD", "clean-start-admin");
            env.put("MATVIEWS_AUTH_SIGNING_KEY", "clean-start-signing-key-of-at-least-32-bytes");
            Process app = builder.start();
            try {
                awaitLog(app, "Listening on", Duration.ofSeconds(90));
                exercise("http://localhost:" + port, "http://localhost:" + management);
            } finally {
                app.destroy(); // SIGTERM, as Kubernetes stops a pod
                if (!app.waitFor(60, TimeUnit.SECONDS)) {
                    app.destroyForcibly();
                    fail("did not stop within 60 s of SIGTERM:\n" + Files.readString(LOG));
                }
            }
        }
        String log = Files.readString(LOG);
        assertTrue(log.contains("stopped in"), "stopped cleanly:\n" + log);
        assertEquals(List.of(), warningsAndErrors(log), "warnings or errors in " + LOG);
    }

    /** Readiness, a login, and concurrent API calls, enough for the pool to open several connections. */
    private static void exercise(String base, String management) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(management + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(base + "/api/admin/auth"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"password\":\"clean-start-admin\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, login.statusCode(), login.body());
        Matcher token = Pattern.compile("\"token\":\"([^\"]+)\"").matcher(login.body());
        assertTrue(token.find(), login.body());
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String path = List.of("/api/admin/matviews", "/api/admin/jobs", "/api/admin/schedules").get(i % 3);
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Authorization", "Bearer " + token.group(1)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.get(30, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.uri() + ": " + response.body());
        }
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(management + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        // not on the API's port: per-view metrics and the API's map are not for anyone who reaches it
        assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(base + "/q/openapi")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/q/openapi"))
                .header("Authorization", "Bearer " + token.group(1)).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    /** Production logs JSON lines: WARN and above, except allowed loggers; any other line that reads like a problem. */
    static List<String> warningsAndErrors(String log) {
        List<String> found = new ArrayList<>();
        for (String line : log.split("\n")) {
            Matcher level = JSON_LEVEL.matcher(line);
            if (line.startsWith("{") && level.find()) {
                Matcher logger = JSON_LOGGER.matcher(line);
                String name = logger.find() ? logger.group(1) : "";
                if (List.of("WARN", "WARNING", "ERROR", "FATAL").contains(level.group(1)) && !ALLOWED_WARNINGS.contains(name)) {
                    found.add(line);
                }
            } else if (Pattern.compile("(?i)\\b(warn|warning|error|exception)\\b").matcher(line).find()) {
                found.add(line);
            }
        }
        return found;
    }

    private static void awaitLog(Process app, String text, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!app.isAlive()) {
                fail("exited with " + app.exitValue() + " before \"" + text + "\":\n" + Files.readString(LOG));
            }
            return Files.exists(LOG) && Files.readString(LOG).contains(text);
        });
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
