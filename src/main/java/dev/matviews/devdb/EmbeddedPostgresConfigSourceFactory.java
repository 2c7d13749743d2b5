package dev.matviews.devdb;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Gives dev mode and tests a real PostgreSQL when no datasource URL is configured: tests always,
 * dev mode when no container runtime is there for Dev Services. Production never gets here
 * (profile check), and the embedded binaries are not packaged (provided scope).
 */
public class EmbeddedPostgresConfigSourceFactory implements ConfigSourceFactory {

    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresConfigSourceFactory.class);
    private static final String ZONKY = "io.zonky.test.db.postgres.embedded.EmbeddedPostgres";
    /** Ordinal below application.properties' 250, so anything the user sets wins. */
    private static final int ORDINAL = 200;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        List<String> profiles = context.getProfiles();
        boolean dev = profiles.contains("dev");
        boolean test = profiles.contains("test");
        if (!dev && !test) {
            return List.of();
        }
        if (isFalse(context.getValue("matviews.embedded-postgres.enabled"))
                || isSet(context.getValue("quarkus.datasource.reactive.url"))
                || isSet(context.getValue("quarkus.datasource.jdbc.url"))) {
            return List.of();
        }
        // Tests always run on the embedded server, prepared the same way everywhere (see
        // EmbeddedPostgresSetup); dev mode prefers Dev Services when a container runtime is there.
        boolean devServicesAllowed = dev && !isFalse(context.getValue("quarkus.devservices.enabled"))
                && !isFalse(context.getValue("quarkus.datasource.devservices.enabled"));
        if (devServicesAllowed && containerRuntimeAvailable()) {
            return List.of();
        }
        if (!zonkyOnClasspath()) {
            return List.of();
        }
        EmbeddedPostgresSetup.Login login = EmbeddedPostgresServer.start(dev,
                EmbeddedPostgresConfigSourceFactory.class.getClassLoader());
        String jdbcUrl = EmbeddedPostgresServer.jdbcUrl();
        String reactiveUrl = jdbcUrl.substring("jdbc:".length());
        return List.of(new PropertiesConfigSource(Map.of(
                "quarkus.datasource.jdbc.url", jdbcUrl,
                "quarkus.datasource.reactive.url", reactiveUrl,
                "quarkus.datasource.username", login.user(),
                "quarkus.datasource.password", login.password()),
                "matviews-embedded-postgres", ORDINAL));
    }

    private static boolean isSet(ConfigValue value) {
        return value != null && value.getValue() != null && !value.getValue().isBlank();
    }

    private static boolean isFalse(ConfigValue value) {
        return value != null && "false".equalsIgnoreCase(value.getValue());
    }

    private static boolean zonkyOnClasspath() {
        try {
            Class.forName(ZONKY, false, EmbeddedPostgresConfigSourceFactory.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The same test Dev Services makes, kept cheap: a runtime that answers `info` within 10 s. */
    private static boolean containerRuntimeAvailable() {
        String cached = System.getProperty("embedded-postgres.matviews.container-runtime");
        if (cached != null) {
            return Boolean.parseBoolean(cached);
        }
        boolean available = false;
        for (String cli : List.of("docker", "podman")) {
            try {
                Process p = new ProcessBuilder(cli, "info").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    available = true;
                    break;
                }
                p.destroyForcibly();
            } catch (Exception e) {
                // CLI missing or not runnable: no runtime through it
            }
        }
        LOG.debugf("container runtime available: %s", available);
        System.setProperty("embedded-postgres.matviews.container-runtime", Boolean.toString(available));
        return available;
    }
}
