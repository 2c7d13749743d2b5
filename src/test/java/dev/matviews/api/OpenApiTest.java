package dev.matviews.api;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.notNullValue;

/** The OpenAPI document describes every status a route can answer, with the problem schema. */
@QuarkusTest
class OpenApiTest {

    private static final String PATHS = "paths.'/api/admin/matviews";

    @Test
    void everyOperationListsItsStatusesAndTheProblemSchema() {
        given().queryParam("format", "json").get("/q/openapi").then().statusCode(200)
                .body("components.schemas.Problem.properties.type", notNullValue())
                .body(PATHS + "'.post.responses.keySet()", hasItems("201", "400", "404", "409"))
                .body(PATHS + "/{id}'.get.responses.keySet()", hasItems("200", "400", "404"))
                .body(PATHS + "/{id}'.put.responses.keySet()", hasItems("200", "400", "404"))
                .body(PATHS + "/{id}'.delete.responses.keySet()", hasItems("204", "400", "404"))
                .body(PATHS + "/{id}/refresh'.post.responses.keySet()",
                        hasItems("200", "202", "400", "404", "409", "500", "503", "504"))
                .body(PATHS + "/{id}/runs'.get.responses.keySet()", hasItems("200", "400", "404"))
                .body(PATHS + "/events'.get.responses.keySet()", hasItems("200", "400"))
                .body("paths.'/api/admin/matview-runs/{runId}'.get.responses.keySet()", hasItems("200", "400", "404"))
                .body("paths.'/api/admin/matview-runs/{runId}/cancel'.post.responses.keySet()",
                        hasItems("202", "400", "404", "409"))
                .body("components.schemas.Run.properties.status", notNullValue())
                .body(PATHS + "/{id}/schedule'.put.responses.keySet()", hasItems("200", "400", "404"))
                .body(PATHS + "/{id}/schedule'.delete.responses.keySet()", hasItems("204", "404"))
                .body("paths.'/api/admin/schedules'.post.responses.keySet()", hasItems("201", "400", "409"))
                .body("paths.'/api/admin/schedules/{id}'.put.responses.keySet()", hasItems("200", "400", "404", "409"))
                .body("paths.'/api/admin/schedules/{id}'.delete.responses.keySet()", hasItems("204", "404"))
                .body("paths.'/api/admin/jobs'.get.responses.keySet()", hasItems("200", "400"))
                .body("paths.'/api/admin/jobs/{id}/retry'.post.responses.keySet()", hasItems("200", "404", "409"))
                .body("paths.'/api/admin/jobs/{id}/cancel'.post.responses.keySet()", hasItems("200", "404", "409"))
                .body(PATHS + "/{id}/refresh'.post.responses.'409'.content.'application/problem+json'.schema.'$ref'",
                        notNullValue());
    }
}
