package dev.matviews.auth;

import dev.matviews.config.MatviewsConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Credentials that cannot be right stop a production start, each saying which setting and why. */
class CredentialsCheckTest {

    private static MatviewsConfig.Auth auth(String admin, String viewer, String key) {
        return new MatviewsConfig.Auth() {
            public Optional<String> adminPassword() {
                return Optional.ofNullable(admin);
            }

            public Optional<String> viewerPassword() {
                return Optional.ofNullable(viewer);
            }

            public Optional<String> signingKey() {
                return Optional.ofNullable(key);
            }

            public Duration tokenTtl() {
                return Duration.ofHours(8);
            }

            public String issuer() {
                return "matviews";
            }

            public Login login() {
                return null;
            }
        };
    }

    private static final String KEY = "a-signing-key-of-more-than-32-bytes-for-tests";

    @Test
    void everyPlaceholderShippedInDeployIsRefusedInProduction() throws Exception {
        String manifest = Files.readString(Path.of("deploy", "matviews.yml"));
        Matcher m = Pattern.compile("(?m)^\\s+(MATVIEWS_AUTH_\\w+|QUARKUS_DATASOURCE_PASSWORD):\\s*(\\S+)").matcher(manifest);
        int seen = 0;
        while (m.find()) {
            seen++;
            String setting = m.group(1);
            String value = m.group(2);
            List<String> problems = switch (setting) {
                case "MATVIEWS_AUTH_ADMIN_PASSWORD" -> CredentialsCheck.problems(auth(value, null, KEY), Optional.empty(), true);
                case "MATVIEWS_AUTH_VIEWER_PASSWORD" -> CredentialsCheck.problems(auth(null, value, KEY), Optional.empty(), true);
                case "MATVIEWS_AUTH_SIGNING_KEY" -> CredentialsCheck.problems(auth(null, null, value), Optional.empty(), true);
                case "QUARKUS_DATASOURCE_PASSWORD" -> CredentialsCheck.problems(auth(null, null, KEY), Optional.of(value), true);
                default -> List.of();
            };
            assertEquals(1, problems.size(), setting + "=" + value + ": " + problems);
            assertTrue(problems.get(0).contains(setting), problems.get(0));
            assertTrue(problems.get(0).contains("placeholder"), problems.get(0));
        }
        assertEquals(4, seen, "the placeholders of deploy/matviews.yml");
        // and those of earlier releases' deploy/matviews.yml
        for (String old : List.of("change-me-too", "change-me-three")) {
            assertEquals(1, CredentialsCheck.problems(auth(old, null, KEY), Optional.empty(), true).size(), old);
        }
        assertEquals(1, CredentialsCheck.problems(auth(null, null, KEY), Optional.of("change-me"), true).size());
    }

    @Test
    void shortPasswordsAreRefusedInProductionWithTheMinimum() {
        List<String> problems = CredentialsCheck.problems(auth("short-pass", "viewer-password-ok", KEY), Optional.empty(), true);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("MATVIEWS_AUTH_ADMIN_PASSWORD") && problems.get(0).contains("10 characters")
                && problems.get(0).contains("at least 12"), problems.get(0));
        assertTrue(CredentialsCheck.problems(auth("twelve-chars", "viewer-password-ok", KEY), Optional.of("db"), true).isEmpty());
    }

    @Test
    void devModeAndTestsCheckOnlyTheSigningKey() {
        assertTrue(CredentialsCheck.problems(auth("x", "change-me-too", KEY), Optional.of("change-me"), false).isEmpty());
        assertFalse(CredentialsCheck.problems(auth(null, null, "too-short"), Optional.empty(), false).isEmpty());
    }
}
