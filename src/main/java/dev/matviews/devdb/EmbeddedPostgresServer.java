package dev.matviews.devdb;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One embedded PostgreSQL per JVM. Config sources are built at augmentation and again on every
 * live reload, each time in a fresh class loader, so the running server is remembered in a
 * system property rather than a static field. Only referenced after the factory has checked
 * that zonky is on the classpath.
 */
final class EmbeddedPostgresServer {

    static final String USER = "postgres";
    private static final String URL_PROPERTY = "embedded-postgres.matviews.jdbc-url";
    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresServer.class);

    private EmbeddedPostgresServer() {
    }

    static synchronized String jdbcUrl(boolean persistent) {
        String running = System.getProperty(URL_PROPERTY);
        if (running != null) {
            return running;
        }
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            if (persistent) {
                // Dev mode keeps its data across restarts, like a real database would.
                Path dir = Path.of("target", "matviews-dev-postgres").toAbsolutePath();
                Files.createDirectories(dir.getParent());
                builder.setDataDirectory(dir).setCleanDataDirectory(false);
            }
            EmbeddedPostgres pg = builder.start();
            String url = "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
            LOG.infof("Started embedded PostgreSQL for %s: %s", persistent ? "dev mode" : "tests", url);
            System.setProperty(URL_PROPERTY, url);
            return url;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the embedded PostgreSQL", e);
        }
    }
}
