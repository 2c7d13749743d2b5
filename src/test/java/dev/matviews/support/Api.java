package dev.matviews.support;

import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;

import static io.restassured.RestAssured.given;

/** HTTP shortcuts for tests: what a client of the admin API does. */
public final class Api {

    public static final String BASE = "/api/admin/matviews";

    private Api() {
    }

    /** Registers an existing matview and returns its id. */
    public static String register(String schema, String view, String mode) {
        return given().contentType(ContentType.JSON)
                .body("{\"schema\":\"" + schema + "\",\"viewName\":\"" + view + "\",\"refreshMode\":\"" + mode + "\"}")
                .post(BASE)
                .then().statusCode(201)
                .extract().path("id");
    }

    public static ValidatableResponse refresh(String id) {
        return given().post(BASE + "/" + id + "/refresh").then().log().ifValidationFails();
    }

    public static ValidatableResponse get(String id) {
        return given().get(BASE + "/" + id).then().log().ifValidationFails();
    }
}
