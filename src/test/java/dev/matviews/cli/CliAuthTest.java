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
}
