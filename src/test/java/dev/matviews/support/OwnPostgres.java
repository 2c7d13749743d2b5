package dev.matviews.support;

import dev.matviews.devdb.EmbeddedPostgresSetup;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A PostgreSQL server of a test profile's own, prepared before the service starts on it.
 * Arguments: {@code binaries} ("oldest" or "newest": the supported lines copied to
 * target/postgres-binaries by the build; absent: the postgres.version of every other test) and
 * {@code setup} ("lived-in", the default, "earlier-release" or "allyourbase").
 */
public class OwnPostgres implements QuarkusTestResourceLifecycleManager {

    private String binaries;
    private String setup;
    private EmbeddedPostgres server;

    @Override
    public void init(Map<String, String> args) {
        binaries = args.get("binaries");
        setup = args.getOrDefault("setup", "lived-in");
    }

    @Override
    public Map<String, String> start() {
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            if (binaries != null) {
                Path jar = Path.of(System.getProperty("test.postgres-binaries"), binaries + ".jar");
                builder.setPgBinaryResolver((system, machine) -> txz(jar));
            }
            server = builder.start();
            String url = "jdbc:postgresql://localhost:" + server.getPort() + "/postgres";
            EmbeddedPostgresSetup.Login login = switch (setup) {
                case "lived-in" -> new LivedInDatabase().prepare(url, LivedInDatabase.SUPERUSER);
                case "earlier-release" -> EarlierRelease.install(url);
                case "allyourbase" -> AllYourBase.install(url);
                default -> throw new IllegalArgumentException("unknown setup " + setup);
            };
            return Map.of("quarkus.datasource.jdbc.url", url,
                    "quarkus.datasource.reactive.url", url.substring("jdbc:".length()),
                    "quarkus.datasource.username", login.user(),
                    "quarkus.datasource.password", login.password());
        } catch (Exception e) {
            throw new IllegalStateException("could not start PostgreSQL (" + binaries + ", " + setup + "): "
                    + e.getMessage(), e);
        }
    }

    /** The one archive of PostgreSQL binaries inside a zonky binaries jar. */
    private static InputStream txz(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.stream().filter(e -> e.getName().endsWith(".txz")).findFirst()
                    .orElseThrow(() -> new IOException("no PostgreSQL binaries in " + jar));
            try (InputStream in = zip.getInputStream(entry)) {
                return new ByteArrayInputStream(in.readAllBytes());
            }
        }
    }

    @Override
    public void stop() {
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
