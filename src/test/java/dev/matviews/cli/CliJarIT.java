package dev.matviews.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packaged CLI: nothing of the service inside, and it runs with no configuration at all. */
class CliJarIT {

    private static final Path JAR = Path.of("target", "matviews-cli.jar");

    @Test
    void theJarHoldsNoDatabaseDriverNorTheService() throws IOException {
        assertTrue(Files.exists(JAR), "built by the package phase");
        try (JarFile jar = new JarFile(JAR.toFile())) {
            List<String> forbidden = jar.stream().map(e -> e.getName())
                    .filter(name -> name.startsWith("org/postgresql/") || name.startsWith("io/vertx/")
                            || name.startsWith("io/quarkus/") || name.startsWith("org/flywaydb/")
                            || name.startsWith("io/zonky/") || name.startsWith("dev/matviews/refresh/")
                            || name.startsWith("dev/matviews/api/") || name.startsWith("application.properties"))
                    .toList();
            assertEquals(List.of(), forbidden);
            assertTrue(jar.getEntry("dev/matviews/cli/MatviewsCli.class") != null);
        }
    }

    @Test
    void itStartsWithoutTheServiceOrItsConfiguration() throws Exception {
        Process help = java("--help");
        assertEquals(0, help.waitFor());
        Process list = java("list", "--url", "http://127.0.0.1:9");
        assertEquals(5, list.waitFor());
        String err = new String(list.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(err.contains("Cannot reach the matviews service"), err);
    }

    private static Process java(String... args) throws IOException, InterruptedException {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(javaBin, "-jar", JAR.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p;
    }
}
