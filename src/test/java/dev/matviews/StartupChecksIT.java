package dev.matviews;

import dev.matviews.support.PackagedApp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packaged application refuses to start on configuration that could never work, and says why. */
class StartupChecksIT {

    @ParameterizedTest
    @ValueSource(strings = {"change-me-to-48-random-bytes", "REPLACE-with-the-output-of-openssl-rand-base64-48"})
    void aSigningKeyThatCannotSignStopsTheStartWithAMessage(String key) throws Exception {
        // No database is needed: the key is checked before the database is awaited.
        String nowhere = "jdbc:postgresql://localhost:" + PackagedApp.freePort() + "/none";
        try (PackagedApp app = PackagedApp.start(nowhere, "nobody", "nothing",
                Path.of("target", "startup-checks-it-" + key.length() + ".log"), Map.of("MATVIEWS_AUTH_SIGNING_KEY", key))) {
            assertTrue(app.process().waitFor(60, TimeUnit.SECONDS), "exits:\n" + app.log());
            assertNotEquals(0, app.process().exitValue());
            assertTrue(app.log().contains("MATVIEWS_AUTH_SIGNING_KEY"), app.log());
            assertTrue(app.log().contains("openssl rand -base64 48"), app.log());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"REPLACE-with-an-admin-password", "change-me-too", "short"})
    void aPlaceholderOrShortAdminPasswordStopsAProductionStartWithAMessage(String password) throws Exception {
        String nowhere = "jdbc:postgresql://localhost:" + PackagedApp.freePort() + "/none";
        try (PackagedApp app = PackagedApp.start(nowhere, "nobody", "nothing",
                Path.of("target", "startup-checks-it-password-" + password.length() + ".log"),
                Map.of("MATVIEWS_AUTH_ADMIN_PASSWORD", password))) {
            assertTrue(app.process().waitFor(60, TimeUnit.SECONDS), "exits:\n" + app.log());
            assertNotEquals(0, app.process().exitValue());
            assertTrue(app.log().contains("MATVIEWS_AUTH_ADMIN_PASSWORD"), app.log());
            assertTrue(app.log().contains("at least 12"), app.log());
        }
    }
}
