package dev.matviews.auth;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.smallrye.jwt.build.Jwt;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;

/** Tokens of an external identity provider: its JWKS, its issuer, its role names mapped to ours. */
@QuarkusTest
@TestProfile(ExternalTokenTest.IdentityProvider.class)
class ExternalTokenTest {

    static final KeyPair KEYS = keys();
    static final String ISSUER = "https://idp.example.test/realms/ops";

    public static class IdentityProvider implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.http.auth.permission.read.policy", "viewer",
                    "quarkus.http.auth.permission.write.policy", "admin",
                    "mp.jwt.verify.publickey.location", jwks().toUri().toString(),
                    "mp.jwt.verify.issuer", ISSUER,
                    "smallrye.jwt.path.groups", "realm_access/roles",
                    "quarkus.http.auth.roles-mapping.\"ops-admins\"", "admin",
                    "quarkus.http.auth.roles-mapping.\"ops-readers\"", "viewer",
                    "matviews.scheduler.enabled", "false");
        }
    }

    private static String token(String role) {
        return Jwt.issuer(ISSUER).subject("alice").claim("realm_access", Map.of("roles", List.of(role)))
                .jws().keyId("k1").sign(KEYS.getPrivate());
    }

    @Test
    void theIdentityProvidersRolesAreMappedToAdminAndViewer() {
        given().header("Authorization", "Bearer " + token("ops-readers")).get("/api/admin/matviews").then().statusCode(200);
        given().header("Authorization", "Bearer " + token("ops-readers")).contentType(ContentType.JSON)
                .body("{\"viewName\":\"x\"}").post("/api/admin/matviews").then().statusCode(403);
        given().header("Authorization", "Bearer " + token("ops-admins")).contentType(ContentType.JSON)
                .body("{\"viewName\":\"no_such_view\"}").post("/api/admin/matviews").then().statusCode(404);
        given().header("Authorization", "Bearer " + token("someone-else")).get("/api/admin/matviews").then().statusCode(403);
        String wrongIssuer = Jwt.issuer("https://evil.example").subject("alice")
                .claim("realm_access", Map.of("roles", List.of("ops-admins"))).jws().keyId("k1").sign(KEYS.getPrivate());
        given().header("Authorization", "Bearer " + wrongIssuer).get("/api/admin/matviews").then().statusCode(401);
    }

    private static KeyPair keys() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path jwks() {
        RSAPublicKey key = (RSAPublicKey) KEYS.getPublic();
        String json = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\""
                + b64(key.getModulus()) + "\",\"e\":\"" + b64(key.getPublicExponent()) + "\"}]}";
        try {
            Path file = Files.createTempFile("jwks", ".json");
            Files.writeString(file, json);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String b64(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes[0] == 0) {
            bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
