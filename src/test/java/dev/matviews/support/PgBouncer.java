package dev.matviews.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real PgBouncer (Debian's package) in front of a PostgreSQL server, with its default settings
 * but for the pool mode, the addresses and the users, started as a separate process. Where it is
 * missing the tests that need it are skipped, saying how to install it, unless
 * MATVIEWS_PGBOUNCER_TESTS=required (as .ci/run sets it), when they fail.
 */
public final class PgBouncer implements AutoCloseable {

    static final Path BINARY = Path.of(System.getenv().getOrDefault("MATVIEWS_PGBOUNCER", "/usr/sbin/pgbouncer"));

    public static final String MISSING = "no PgBouncer here: these tests need Debian's pgbouncer (/usr/sbin/pgbouncer,"
            + " or MATVIEWS_PGBOUNCER): sudo apt-get install pgbouncer";

    private final Process process;
    private final Path dir;
    private final int port;

    private PgBouncer(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /** For {@code @EnabledIf}: installed here, or required (then a missing one fails the tests). */
    public static boolean usable() {
        return Files.isExecutable(BINARY) || "required".equals(System.getenv("MATVIEWS_PGBOUNCER_TESTS"));
    }

    /**
     * Starts PgBouncer on a free port for database {@code database} of the server at
     * {@code serverPort}, in {@code poolMode}, letting in {@code users} (name to password, md5 auth
     * as PgBouncer's default has it). The pool holds {@code poolSize} server connections per user.
     */
    public static PgBouncer start(int serverPort, String database, String poolMode, Map<String, String> users,
                                  int poolSize, Path log) throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(MISSING);
        }
        Path dir = Files.createTempDirectory("matviews-pgbouncer");
        int port = PackagedApp.freePort();
        StringBuilder auth = new StringBuilder();
        users.forEach((user, password) -> auth.append('"').append(user).append("\" \"").append(password).append("\"\n"));
        Files.writeString(dir.resolve("users.txt"), auth);
        Files.writeString(dir.resolve("pgbouncer.ini"), "[databases]\n"
                + database + " = host=127.0.0.1 port=" + serverPort + " dbname=" + database + "\n"
                + "[pgbouncer]\n"
                + "listen_addr = 127.0.0.1\n"
                + "listen_port = " + port + "\n"
                + "auth_file = " + dir.resolve("users.txt") + "\n"
                + "pool_mode = " + poolMode + "\n"
                + "default_pool_size = " + poolSize + "\n"
                + "unix_socket_dir =\n");
        // PgBouncer refuses to run as root: it drops to nobody, which must read its files.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String f : List.of("users.txt", "pgbouncer.ini")) {
            Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
        }
        List<String> command = new ArrayList<>(List.of(BINARY.toString()));
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("-u", "nobody"));
        }
        command.add(dir.resolve("pgbouncer.ini").toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PgBouncer bouncer = new PgBouncer(process, dir, port);
        bouncer.awaitListening(Duration.ofSeconds(20), log);
        return bouncer;
    }

    private void awaitListening(Duration timeout, Path log) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("PgBouncer exited: " + Files.readString(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
            }
        }
        throw new IllegalStateException("PgBouncer did not listen within " + timeout + ": " + Files.readString(log));
    }

    public int port() {
        return port;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }
}
