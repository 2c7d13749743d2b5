package dev.matviews.cli;

import dev.matviews.support.SecuredProfile;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI against a service that requires tokens. */
@QuarkusTest
@TestProfile(SecuredProfile.class)
class CliAuthTest {

    @TestHTTPResource("/")
    URL service;

    @Test
    void withoutATokenItExits5AndWithOneItWorks() {
        StringWriter err = new StringWriter();
        int denied = MatviewsCli.execute(new String[]{"list", "--url", service.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err), Map.of(), null);
        assertEquals(5, denied);
        assertTrue(err.toString().startsWith("Not authorised (401)"), err.toString());

        String token = given().contentType(ContentType.JSON).body("{\"password\":\"viewer-secret\"}")
                .post("/api/admin/auth").then().statusCode(200).extract().path("token");
        int listed = MatviewsCli.execute(new String[]{"list", "--url", service.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), Map.of("MATVIEWS_TOKEN", token), null);
        assertEquals(0, listed);
        StringWriter forbidden = new StringWriter();
        int refused = MatviewsCli.execute(new String[]{"register", "--view", "x", "--url", service.toString(), "--token", token},
                new PrintWriter(new StringWriter()), new PrintWriter(forbidden), Map.of(), null);
        assertEquals(5, refused);
        assertTrue(forbidden.toString().startsWith("Not authorised (403)"), forbidden.toString());
    }

    private record Ran(int code, String out, String err) {
    }

    private Ran cli(java.nio.file.Path config, String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--url",
                service.toString())).toArray(String[]::new);
        int code = MatviewsCli.execute(all, new java.io.ByteArrayInputStream(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                new PrintWriter(out), new PrintWriter(err), Map.of(), config);
        return new Ran(code, out.toString(), err.toString());
    }

    @Test
    void loginKeepsTheTokenOwnerOnlyLogoutForgetsItAndAnExpiredTokenSaysToLogInAgain() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("matviews-cli");
        java.nio.file.Path config = dir.resolve("matviews").resolve("config.properties");

        Ran wrong = cli(config, "not-it\n", "login", "--password-stdin");
        assertEquals(5, wrong.code());
        assertTrue(wrong.err().startsWith("Login refused (401): wrong password"), wrong.err());
        assertTrue(!java.nio.file.Files.exists(config), "nothing kept after a refused login");
        assertEquals(2, cli(config, "", "login", "--password-stdin").code());

        Ran in = cli(config, "admin-secret\n", "login", "--password-stdin");
        assertEquals(0, in.code(), in.err());
        assertTrue(in.out().startsWith("Signed in as admin until "), in.out());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(config)));
        String kept = java.nio.file.Files.readString(config);
        assertTrue(kept.contains("token.http"), kept);
        assertFalse(kept.contains("admin-secret"), "the password is never kept");
        assertFalse(in.out().contains(kept.replaceAll("(?s).*token\\.[^=]*=([^\\s]+).*", "$1")), "the token is not printed");
        assertEquals(0, cli(config, "", "list").code(), "the kept token is used");

        Ran out = cli(config, "", "logout");
        assertEquals(0, out.code());
        assertTrue(out.out().startsWith("Signed out"), out.out());
        assertFalse(java.nio.file.Files.readString(config).contains("token.") || java.nio.file.Files.readString(config).contains("token="));
        assertEquals(5, cli(config, "", "list").code());
        assertTrue(cli(config, "", "logout").out().startsWith("Not signed in"));

        // a token that has expired, as one kept from a login a day ago would be
        String expired = io.smallrye.jwt.build.Jwt.issuer("matviews").subject("admin").groups(java.util.Set.of("admin"))
                .issuedAt(java.time.Instant.now().minusSeconds(7200)).expiresAt(java.time.Instant.now().minusSeconds(3600))
                .signWithSecret(SecuredProfile.KEY);
        // (in a file written before tokens were kept per URL: its one token belongs to its url)
        java.nio.file.Files.writeString(config, "url=" + service.toString().replace(":", "\\:") + "\ntoken=" + expired + "\n");
        Ran stale = cli(config, "", "list");
        assertEquals(5, stale.code());
        assertTrue(stale.err().startsWith("Not authorised (401)") && stale.err().contains("log in again (matviews login)"),
                stale.err());
    }

    private Ran cliAt(java.nio.file.Path config, Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = MatviewsCli.execute(args, new java.io.ByteArrayInputStream(new byte[0]), new PrintWriter(out),
                new PrintWriter(err), env, config);
        return new Ran(code, out.toString(), err.toString());
    }

    @Test
    void aTokenKeptByLoginGoesOnlyToTheUrlItCameFromAndLaterCommandsUseThatUrl() throws Exception {
        java.nio.file.Path config = java.nio.file.Files.createTempDirectory("matviews-cli").resolve("config.properties");
        assertEquals(0, cli(config, "admin-secret\n", "login", "--password-stdin").code());
        // no --url, no MATVIEWS_URL: the URL signed in to, with its token (it went to the default URL before)
        Ran listed = cliAt(config, Map.of(), "list");
        assertEquals(0, listed.code(), listed.err());

        // another service on this machine never sees that token
        java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer other = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        other.createContext("/", exchange -> {
            seen.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            byte[] body = "{\"title\":\"Unauthorized\",\"status\":401}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/problem+json");
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        other.start();
        try {
            Ran elsewhere = cliAt(config, Map.of(), "list", "--url", "http://127.0.0.1:" + other.getAddress().getPort());
            assertEquals(5, elsewhere.code(), elsewhere.err());
            assertEquals(java.util.List.of("null"), seen, "no Authorization header sent to another URL");
        } finally {
            other.stop(0);
        }
        // and the first service still gets it
        assertEquals(0, cliAt(config, Map.of(), "list", "--url", service.toString()).code());
    }

    @Test
    void aPasswordOrTokenIsNotSentOverPlainHttpToAnotherHostWithoutInsecure() throws Exception {
        java.nio.file.Path config = java.nio.file.Files.createTempDirectory("matviews-cli").resolve("config.properties");
        Ran token = cliAt(config, Map.of(), "list", "--url", "http://matviews.invalid:8080", "--token", "abc");
        assertEquals(2, token.code(), token.err());
        assertTrue(token.err().startsWith("Refusing to send a token over plain http to matviews.invalid"), token.err());
        Ran env = cliAt(config, Map.of("MATVIEWS_TOKEN", "abc", "MATVIEWS_URL", "http://10.1.2.3:8080"), "list");
        assertEquals(2, env.code(), env.err());
        Ran password = cliAt(config, Map.of(), "login", "--password-stdin", "--url", "http://matviews.invalid");
        assertEquals(2, password.code(), password.err());
        assertTrue(password.err().startsWith("Refusing to send a password"), password.err());
        // --insecure lets it go (here it finds no such host: exit 5, not a refusal)
        Ran insecure = cliAt(config, Map.of(), "list", "--url", "http://matviews.invalid:8080", "--token", "abc", "--insecure");
        assertEquals(5, insecure.code(), insecure.err());
        // https anywhere, and plain http to this machine, are fine
        assertTrue(ApiClient.safeToSendCredentials("https://matviews.example.com"));
        assertTrue(ApiClient.safeToSendCredentials("http://localhost:8080"));
        assertTrue(ApiClient.safeToSendCredentials("http://127.0.0.1:8080"));
        assertTrue(ApiClient.safeToSendCredentials("http://[::1]:8080"));
        assertFalse(ApiClient.safeToSendCredentials("http://192.168.1.5:8080"));
        assertFalse(ApiClient.safeToSendCredentials("http://matviews.example.com"));
    }
}
