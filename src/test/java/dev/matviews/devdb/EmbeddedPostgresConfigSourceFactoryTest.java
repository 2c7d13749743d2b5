package dev.matviews.devdb;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigValue;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the factory adds to the configuration, with the container-runtime probe answered in advance
 * (its cached answer) and the embedded server switched off, so no server starts here.
 */
class EmbeddedPostgresConfigSourceFactoryTest {

    private static final String RUNTIME = "embedded-postgres.matviews.container-runtime";
    private String cachedRuntime;

    @BeforeEach
    void rememberTheProbe() {
        cachedRuntime = System.getProperty(RUNTIME);
    }

    @AfterEach
    void restoreTheProbe() {
        if (cachedRuntime == null) {
            System.clearProperty(RUNTIME);
        } else {
            System.setProperty(RUNTIME, cachedRuntime);
        }
    }

    /** Left on, Dev Services would ask Testcontainers for Docker and log an ERROR at every dev-mode start. */
    @Test
    void devModeWithoutAContainerRuntimeSwitchesDevServicesOff() {
        System.setProperty(RUNTIME, "false");
        assertEquals(Map.of("quarkus.devservices.enabled", "false"),
                properties("dev", Map.of("matviews.embedded-postgres.enabled", "false")));
        assertEquals(Map.of("quarkus.devservices.enabled", "false"),
                properties("dev", Map.of("quarkus.datasource.reactive.url", "postgresql://db:5432/app",
                        "quarkus.datasource.jdbc.url", "jdbc:postgresql://db:5432/app")));
    }

    @Test
    void devModeWithAContainerRuntimeLeavesDevServicesToStartTheDatabase() {
        System.setProperty(RUNTIME, "true");
        assertEquals(Map.of(), properties("dev", Map.of()));
    }

    @Test
    void devServicesSwitchedOffByTheUserAreNotProbedFor() {
        System.clearProperty(RUNTIME);
        assertEquals(Map.of(), properties("dev", Map.of("quarkus.devservices.enabled", "false",
                "matviews.embedded-postgres.enabled", "false")));
        assertEquals(null, System.getProperty(RUNTIME), "no probe");
    }

    @Test
    void testsAndProductionAreLeftAlone() {
        System.setProperty(RUNTIME, "false");
        assertEquals(Map.of(), properties("test", Map.of("matviews.embedded-postgres.enabled", "false")));
        assertEquals(Map.of(), properties("prod", Map.of()));
    }

    private static Map<String, String> properties(String profile, Map<String, String> values) {
        ConfigSourceContext context = new ConfigSourceContext() {
            @Override
            public ConfigValue getValue(String name) {
                String value = values.get(name);
                return value == null ? null : ConfigValue.builder().withName(name).withValue(value).build();
            }

            @Override
            public Iterator<String> iterateNames() {
                return values.keySet().iterator();
            }

            @Override
            public List<String> getProfiles() {
                return List.of(profile);
            }
        };
        Map<String, String> properties = new HashMap<>();
        List<ConfigSource> sources = new ArrayList<>();
        new EmbeddedPostgresConfigSourceFactory().getConfigSources(context).forEach(sources::add);
        sources.forEach(source -> properties.putAll(source.getProperties()));
        return properties;
    }
}
