package dev.matviews.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A native image serialises only types registered for reflection. Every type the API documents
 * as a schema is one it reads or writes, so each must carry @RegisterForReflection.
 */
class ReflectionRegistrationTest {

    @Test
    void everyDocumentedResponseTypeIsRegisteredForReflection() throws IOException {
        Path classes = Path.of("target", "classes");
        List<String> missing;
        try (Stream<Path> files = Files.walk(classes.resolve("dev/matviews"))) {
            missing = files.filter(f -> f.toString().endsWith(".class") && !f.toString().contains("/cli/"))
                    .map(f -> classes.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", ""))
                    .map(ReflectionRegistrationTest::load)
                    .filter(c -> c.isAnnotationPresent(Schema.class))
                    .filter(c -> !c.isAnnotationPresent(RegisterForReflection.class))
                    .map(Class::getName).sorted().toList();
        }
        assertEquals(List.of(), missing);
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, ReflectionRegistrationTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }
}
