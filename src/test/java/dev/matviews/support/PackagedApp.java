package dev.matviews.support;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * The packaged application (target/quarkus-app) run as a process, as a pod runs it: production
 * profile, configured through the environment, stopped with SIGTERM. For integration tests.
 */
public final class PackagedApp implements AutoCloseable {

    public static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    public static final String ADMIN_PASSWORD = "packaged-app-admin";

    private final Process process;
    private final Path log;
    private final int port;
    private final int managementPort;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private String token;

    private PackagedApp(Process process, Path log, int port, int managementPort) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.managementPort = managementPort;
    }

    /** Starts the jar against {@code jdbcUrl} as {@code user}; {@code env} adds or overrides settings. */
    public static PackagedApp start(String jdbcUrl, String user, String password, Path log, Map<String, String> env)
            throws IOException {
        assertTrue(Files.exists(JAR), "built by the package phase");
        int port = freePort();
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(k -> k.startsWith("QUARKUS_") || k.startsWith("MATVIEWS_")
                || k.startsWith("MP_JWT") || k.startsWith("SMALLRYE_"));
        environment.put("QUARKUS_DATASOURCE_REACTIVE_URL", jdbcUrl.substring("jdbc:".length()));
        environment.put("QUARKUS_DATASOURCE_JDBC_URL", jdbcUrl);
        environment.put("QUARKUS_DATASOURCE_USERNAME", user);
        environment.put("QUARKUS_DATASOURCE_PASSWORD", password);
        environment.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        int managementPort = freePort();
        environment.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(managementPort));
        environment.put("MATVIEWS_AUTH_ADMIN_PASSWORD", ADMIN_PASSWORD);
        environment.put("MATVIEWS_AUTH_SIGNING_KEY", "packaged-app-signing-key-of-at-least-32-bytes");
        environment.putAll(env);
        return new PackagedApp(builder.start(), log, port, managementPort);
    }

    public String base() {
        return "http://localhost:" + port;
    }

    public Process process() {
        return process;
    }

    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** Waits until the log shows {@code text}; fails at once if the process exits first. */
    public void awaitLog(String text, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!process.isAlive()) {
                fail("exited with " + process.exitValue() + " before \"" + text + "\":\n" + log());
            }
            return log().contains(text);
        });
    }

    public void awaitStarted() {
        awaitLog("Listening on", Duration.ofSeconds(90));
    }

    /** Where health and metrics are served in production: the management port. */
    public String managementBase() {
        return "http://localhost:" + managementPort;
    }

    /** A GET without a token on the management port (health, metrics). */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(managementBase() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A GET without a token on the API's port. */
    public HttpResponse<String> getFromApiPort(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public int readiness() {
        try {
            return get("/q/health/ready").statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** An admin API call with an admin token (logging in on first use). */
    public CompletableFuture<HttpResponse<String>> call(String method, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path))
                .header("Authorization", "Bearer " + token());
        if (json != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A request to {@code pathAndQuery} (already encoded) carrying the admin token; the caller adds the rest. */
    public HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(base() + pathAndQuery)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token());
    }

    public HttpClient http() {
        return http;
    }

    public HttpResponse<String> callNow(String method, String path, String json) throws Exception {
        return call(method, path, json).get(60, TimeUnit.SECONDS);
    }

    /** Registers public.{@code view} and returns its registration id. */
    public String register(String view, String mode) throws Exception {
        HttpResponse<String> r = callNow("POST", "/api/admin/matviews",
                "{\"schema\":\"public\",\"viewName\":\"" + view + "\",\"refreshMode\":\"" + mode + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        return field(r.body(), "id");
    }

    private synchronized String token() {
        if (token == null) {
            try {
                HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(base() + "/api/admin/auth"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"password\":\"" + ADMIN_PASSWORD + "\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, login.statusCode(), login.body());
                token = field(login.body(), "token");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return token;
    }

    /** The first string value of {@code name} in a JSON body. */
    public static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    /** SIGTERM, as Kubernetes stops a pod, without waiting. */
    public void terminate() {
        process.destroy();
    }

    /** SIGTERM and wait for the exit; fails if it takes longer than {@code timeout}. */
    public int stop(Duration timeout) throws Exception {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("did not stop within " + timeout + " of SIGTERM:\n" + log());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
