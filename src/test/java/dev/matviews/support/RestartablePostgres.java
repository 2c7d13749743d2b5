package dev.matviews.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * An embedded PostgreSQL that can be stopped and started again with its data, on the same port,
 * as a database restart or failover looks to a client (fast shutdown: sessions are terminated).
 */
public final class RestartablePostgres implements AutoCloseable {

    private final Path dataDirectory;
    private final int port;
    private EmbeddedPostgres server;

    private RestartablePostgres(Path dataDirectory, int port) {
        this.dataDirectory = dataDirectory;
        this.port = port;
    }

    /** A new server, started. */
    public static RestartablePostgres start() throws IOException {
        Files.createDirectories(Path.of("target"));
        RestartablePostgres pg = new RestartablePostgres(
                Files.createTempDirectory(Path.of("target").toAbsolutePath(), "restartable-pg-"), PackagedApp.freePort());
        pg.startAgain();
        return pg;
    }

    public synchronized void startAgain() throws IOException {
        if (server == null) {
            server = EmbeddedPostgres.builder().setDataDirectory(dataDirectory).setCleanDataDirectory(false)
                    .setPort(port).start();
        }
    }

    public synchronized void stop() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + port + "/postgres";
    }

    /** A superuser session. */
    public Connection superuser() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), LivedInDatabase.SUPERUSER, "");
    }

    public void exec(String sql) throws SQLException {
        try (Connection c = superuser(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    public long count(String sql) throws SQLException {
        try (Connection c = superuser(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public String string(String sql) throws SQLException {
        try (Connection c = superuser(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Override
    public void close() throws IOException {
        stop();
        try (Stream<Path> files = Files.walk(dataDirectory)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
