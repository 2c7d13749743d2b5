package dev.matviews;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The manifests quarkus-kubernetes generated at package time. */
class KubernetesManifestIT {

    @Test
    void theDeploymentHasProbesResourcesSecretAndNoInitJob() throws IOException {
        String yml = Files.readString(Path.of("target", "kubernetes", "kubernetes.yml"));
        for (String expected : new String[]{"kind: Deployment", "kind: Service", "kind: ServiceMonitor",
                "livenessProbe:", "path: /q/health/live", "readinessProbe:", "path: /q/health/ready",
                "startupProbe:", "path: /q/health/started", "requests:", "limits:", "secretRef:", "name: matviews-db",
                "configMapRef:", "name: matviews-config", "name: MATVIEWS_INSTANCE_ID", "replicas: 3"}) {
            assertTrue(yml.contains(expected), "missing " + expected);
        }
        assertFalse(yml.contains("kind: Job"), "no Flyway init Job");
        assertFalse(yml.contains("initContainers"), "no init container pulling an outside image");
    }
}
