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
        assertFalse(yml.contains("kind: Job"), "no Flyway init Job");
        assertFalse(yml.contains("initContainers"), "no init container pulling an outside image");
    }

    /** src/main/kubernetes/kubernetes.yml is merged into the one Deployment, not added beside it. */
    @Test
    void podsGetLongerToStopThanTheSchedulersShutdownGrace() throws IOException {
        String yml = manifest();
        assertEquals(1, Pattern.compile("(?m)^kind: Deployment$").matcher(yml).results().count(), "one Deployment");
        Matcher period = Pattern.compile("(?m)^ {6}terminationGracePeriodSeconds: (\\d+)$").matcher(yml);
        assertTrue(period.find(), "the Deployment's pod template sets terminationGracePeriodSeconds");
        Duration terminationGrace = Duration.ofSeconds(Long.parseLong(period.group(1)));
        assertFalse(period.find(), "set once");

        Duration shutdownGrace = longestShutdownGrace();
        assertTrue(terminationGrace.compareTo(shutdownGrace.plus(STOP_MARGIN)) >= 0,
                "terminationGracePeriodSeconds " + terminationGrace.toSeconds() + " s must be at least"
                        + " matviews.scheduler.shutdown-grace (" + shutdownGrace.toSeconds() + " s) + "
                        + STOP_MARGIN.toSeconds() + " s");
    }

    /** The default, application.properties (any profile) and deploy/matviews.yml's ConfigMap: the longest. */
    private static Duration longestShutdownGrace() throws IOException {
        List<Duration> graces = new ArrayList<>();
        try {
            graces.add(DurationConverter.parseDuration(MatviewsConfig.Scheduler.class.getMethod("shutdownGrace")
                    .getAnnotation(WithDefault.class).value()));
        } catch (NoSuchMethodException e) {
            throw new AssertionError("MatviewsConfig.Scheduler.shutdownGrace() is gone", e);
        }
        Properties properties = new Properties();
        try (InputStream in = KubernetesManifestIT.class.getClassLoader().getResourceAsStream("application.properties")) {
            properties.load(in);
        }
        properties.stringPropertyNames().stream()
                .filter(name -> name.replaceFirst("^%[^.]+\\.", "").equals("matviews.scheduler.shutdown-grace"))
                .forEach(name -> graces.add(DurationConverter.parseDuration(properties.getProperty(name))));
        Matcher configMap = Pattern.compile("MATVIEWS_SCHEDULER_SHUTDOWN_GRACE:\\s*\"?([^\"\\s]+)")
                .matcher(Files.readString(Path.of("deploy", "matviews.yml")));
        while (configMap.find()) {
            graces.add(DurationConverter.parseDuration(configMap.group(1)));
        }
        return Collections.max(graces);
    }
}
