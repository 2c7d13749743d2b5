package dev.matviews.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** SQL scripts from the test class path: the fixtures, and deploy/*.sql exactly as users get them. */
public final class Scripts {

    private Scripts() {
    }

    public static String read(String name) {
        try (InputStream in = Scripts.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("no resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The script with psql's variable interpolation done, as psql -v name=value would: :"name" and :'name'. */
    public static String psql(String name, Map<String, String> variables) {
        String script = read(name);
        for (var v : variables.entrySet()) {
            script = script.replace(":\"" + v.getKey() + "\"", '"' + v.getValue().replace("\"", "\"\"") + '"')
                    .replace(":'" + v.getKey() + "'", "'" + v.getValue().replace("'", "''") + "'");
        }
        return script;
    }
}
