package dev.matviews;

import dev.matviews.config.MatviewsConfig;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.WithDefault;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The manifests quarkus-kubernetes generated at package time. */
class KubernetesManifestIT {

    /** Time a stopping replica needs beyond the grace: cancel its refreshes, hand its jobs back, stop. */
    private static final Duration STOP_MARGIN = Duration.ofSeconds(10);

    private static String manifest() throws IOException {
        return Files.readString(Path.of("target", "kubernetes", "kubernetes.yml"));
    }

    @Test
    void theDeploymentHasProbesResourcesSecretAndNoInitJob() throws IOException {
        String yml = manifest();
        for (String expected : new String[]{"kind: Deployment", "kind: Service", "kind: ServiceMonitor",
                "livenessProbe:", "path: /q/health/live", "readinessProbe:", "path: /q/health/ready",
                "startupProbe:", "path: /q/health/started", "requests:", "limits:", "secretRef:", "name: matviews-db",
                "configMapRef:", "name: matviews-config", "name: MATVIEWS_INSTANCE_ID", "replicas: 3"}) {
            assertTrue(yml.contains(expected), "missing " + expected);
        }
        // health and metrics on the management port only: the probes, the scrape and the
        // annotations use it, and the Service (what an ingress routes to) does not expose it
        Matcher probes = Pattern.compile("path: /q/health/(live|ready|started)\\s+port: (\\d+)").matcher(yml);
        int seen = 0;
        while (probes.find()) {
            seen++;
            assertEquals("9000", probes.group(2), "probe " + probes.group(1));
        }
        assertEquals(3, seen, "three probes");
        assertTrue(yml.matches("(?s).*kind: ServiceMonitor.*targetPort: 9000\\s+path: /q/metrics.*"), "scraped on 9000");
        assertTrue(yml.contains("prometheus.io/port: \"9000\""));
        String service = yml.split("---")[java.util.Arrays.asList(yml.split("---")).indexOf(
                java.util.Arrays.stream(yml.split("---")).filter(d -> d.contains("kind: Service\n")).findFirst().orElseThrow())];
        assertFalse(service.substring(service.indexOf("\nspec:")).contains("9000"),
                "the Service exposes the API's port only:\n" + service);
        assertFalse(yml.contains("kind: Job"), "no Flyway init Job");
        assertFalse(yml.contains("initContainers"), "no init container pulling an outside image");
    }

    /**
     * src/main/kubernetes/kubernetes.yml is merged into the one Deployment, not added beside it, and
     * gives a stopping pod time for the shutdown delay, the refresh drain's grace and the cancels
     * after it; the HTTP layer waits for in-flight requests at least that grace plus the margin.
     */
    @Test
    void podsGetLongerToStopThanTheShutdownDelayAndTheRefreshDrain() throws IOException {
        String yml = manifest();
        assertEquals(1, Pattern.compile("(?m)^kind: Deployment$").matcher(yml).results().count(), "one Deployment");
        Matcher period = Pattern.compile("(?m)^ {6}terminationGracePeriodSeconds: (\\d+)$").matcher(yml);
        assertTrue(period.find(), "the Deployment's pod template sets terminationGracePeriodSeconds");
        Duration terminationGrace = Duration.ofSeconds(Long.parseLong(period.group(1)));
        assertFalse(period.find(), "set once");

        Properties properties = new Properties();
        try (InputStream in = KubernetesManifestIT.class.getClassLoader().getResourceAsStream("application.properties")) {
            properties.load(in);
        }
        Duration grace = longest(properties, MatviewsConfig.Refresh.class, "matviews.refresh.shutdown-grace",
                "MATVIEWS_REFRESH_SHUTDOWN_GRACE");
        Duration delay = DurationConverter.parseDuration(properties.getProperty("%prod.quarkus.shutdown.delay"));
        Duration httpWait = DurationConverter.parseDuration(properties.getProperty("quarkus.shutdown.timeout"));
        assertTrue(terminationGrace.compareTo(delay.plus(grace).plus(STOP_MARGIN)) >= 0,
                "terminationGracePeriodSeconds " + terminationGrace.toSeconds() + " s must be at least the shutdown delay ("
                        + delay.toSeconds() + " s) + matviews.refresh.shutdown-grace (" + grace.toSeconds() + " s) + "
                        + STOP_MARGIN.toSeconds() + " s");
        assertTrue(httpWait.compareTo(grace.plus(STOP_MARGIN)) >= 0, "quarkus.shutdown.timeout " + httpWait
                + " must be at least matviews.refresh.shutdown-grace + " + STOP_MARGIN.toSeconds() + " s");
        assertTrue(terminationGrace.compareTo(delay.plus(httpWait)) >= 0,
                "terminationGracePeriodSeconds must cover the shutdown delay + quarkus.shutdown.timeout");
    }

    /** The default, application.properties (any profile) and deploy/matviews.yml's ConfigMap: the longest. */
    private static Duration longest(Properties properties, Class<?> group, String key, String env) throws IOException {
        List<Duration> values = new ArrayList<>();
        try {
            values.add(DurationConverter.parseDuration(group.getMethod("shutdownGrace")
                    .getAnnotation(WithDefault.class).value()));
        } catch (NoSuchMethodException e) {
            throw new AssertionError(group.getSimpleName() + ".shutdownGrace() is gone", e);
        }
        properties.stringPropertyNames().stream()
                .filter(name -> name.replaceFirst("^%[^.]+\\.", "").equals(key))
                .forEach(name -> values.add(DurationConverter.parseDuration(properties.getProperty(name))));
        Matcher configMap = Pattern.compile(env + ":\\s*\"?([^\"\\s]+)")
                .matcher(Files.readString(Path.of("deploy", "matviews.yml")));
        while (configMap.find()) {
            values.add(DurationConverter.parseDuration(configMap.group(1)));
        }
        return Collections.max(values);
    }
}
