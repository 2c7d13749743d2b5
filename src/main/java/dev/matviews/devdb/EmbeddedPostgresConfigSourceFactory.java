package dev.matviews.devdb;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.jboss.logging.Logger;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Gives dev mode and tests a real PostgreSQL when no datasource URL is configured: tests always,
 * dev mode when no container runtime is there for Dev Services. In dev mode without a container
 * runtime it also switches Dev Services off. Production never gets here (profile check), and the
 * embedded binaries are not packaged (provided scope).
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
        Map<String, String> properties = new LinkedHashMap<>();
        // Dev mode without a container runtime: no Dev Service can start, so switch them off. Left
        // on, Quarkus still asks Testcontainers for a Docker environment to describe its config-only
        // Dev Services (smallrye-jwt's), which logs an ERROR "Could not find a valid Docker
        // environment" on every start. Tests never ask (that description is built in dev mode only).
        boolean devServicesWanted = dev && !isFalse(context.getValue("quarkus.devservices.enabled"));
        boolean containerRuntime = devServicesWanted && containerRuntimeAvailable();
        if (devServicesWanted && !containerRuntime) {
            properties.put("quarkus.devservices.enabled", "false");
        }
        if (embeddedPostgresWanted(context, test, containerRuntime) && zonkyOnClasspath()) {
            EmbeddedPostgresSetup.Login login = EmbeddedPostgresServer.start(dev,
                    EmbeddedPostgresConfigSourceFactory.class.getClassLoader());
            String jdbcUrl = EmbeddedPostgresServer.jdbcUrl();
            properties.put("quarkus.datasource.jdbc.url", jdbcUrl);
            properties.put("quarkus.datasource.reactive.url", jdbcUrl.substring("jdbc:".length()));
            properties.put("quarkus.datasource.username", login.user());
            properties.put("quarkus.datasource.password", login.password());
        }
        if (properties.isEmpty()) {
            return List.of();
        }
        return List.of(new PropertiesConfigSource(properties, "matviews-embedded-postgres", ORDINAL));
    }

    /**
     * No URL configured, and: tests always (they run on the embedded server, prepared the same way
     * everywhere, see EmbeddedPostgresSetup); dev mode unless Dev Services can start a database.
     */
    private static boolean embeddedPostgresWanted(ConfigSourceContext context, boolean test, boolean containerRuntime) {
        if (isFalse(context.getValue("matviews.embedded-postgres.enabled"))
                || isSet(context.getValue("quarkus.datasource.reactive.url"))
                || isSet(context.getValue("quarkus.datasource.jdbc.url"))) {
            return false;
        }
        return test || !containerRuntime || isFalse(context.getValue("quarkus.datasource.devservices.enabled"));
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
