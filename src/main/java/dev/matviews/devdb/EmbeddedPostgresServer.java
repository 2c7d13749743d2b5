package dev.matviews.devdb;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.ServiceLoader;

/**
 * One embedded PostgreSQL per JVM. Config sources are built at augmentation and again on every
 * live reload, each time in a fresh class loader, so the running server and the role to connect
 * as are remembered in system properties rather than static fields. Only referenced after the
 * factory has checked that zonky is on the classpath.
 */
final class EmbeddedPostgresServer {

    static final String SUPERUSER = "postgres";
    private static final String URL_PROPERTY = "embedded-postgres.matviews.jdbc-url";
    private static final String USER_PROPERTY = "embedded-postgres.matviews.user";
    private static final String PASSWORD_PROPERTY = "embedded-postgres.matviews.password";
    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresServer.class);

    private EmbeddedPostgresServer() {
    }

    /** The running server's database and the role to connect as, starting and preparing it first if needed. */
    static synchronized EmbeddedPostgresSetup.Login start(boolean persistent, ClassLoader loader) {
        if (System.getProperty(URL_PROPERTY) != null) {
            return new EmbeddedPostgresSetup.Login(System.getProperty(USER_PROPERTY), System.getProperty(PASSWORD_PROPERTY));
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
            EmbeddedPostgresSetup.Login login = new EmbeddedPostgresSetup.Login(SUPERUSER, SUPERUSER);
            // Tests only: dev mode sees the test class path too (continuous testing), and keeps the superuser.
            Iterator<EmbeddedPostgresSetup> setups = ServiceLoader.load(EmbeddedPostgresSetup.class, loader).iterator();
            if (!persistent && setups.hasNext()) {
                login = setups.next().prepare(url, SUPERUSER);
            }
            LOG.infof("Started embedded PostgreSQL for %s: %s (as %s)", persistent ? "dev mode" : "tests", url,
                    login.user());
            System.setProperty(USER_PROPERTY, login.user());
            System.setProperty(PASSWORD_PROPERTY, login.password());
            System.setProperty(URL_PROPERTY, url);
            return login;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the embedded PostgreSQL", e);
        } catch (Exception e) {
            throw new IllegalStateException("Could not prepare the embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    static String jdbcUrl() {
        return System.getProperty(URL_PROPERTY);
    }
}
