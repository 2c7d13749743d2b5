package dev.matviews.dev;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.OwnSchema;
import io.quarkus.arc.profile.IfBuildProfile;
import io.quarkus.runtime.StartupEvent;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Dev mode only: a demo schema with matviews of every kind, so the API has something to show. */
@ApplicationScoped
@IfBuildProfile("dev")
public class DemoSeeder {

    private static final Logger LOG = Logger.getLogger(DemoSeeder.class);

    private final Pool pool;
    private final MatviewsConfig config;
    private final OwnSchema schema;

    public DemoSeeder(Pool pool, MatviewsConfig config, OwnSchema schema) {
        this.pool = pool;
        this.config = config;
        this.schema = schema;
    }

    // Start-up runs on the main thread, not the event loop: waiting here blocks nothing else.
    void seed(@Observes StartupEvent event) {
        if (!config.dev().seed()) {
            return;
        }
        pool.query(script().replace("${registry}", schema.registry())).execute().await().atMost(Duration.ofSeconds(60));
        LOG.info("Dev mode: demo schema 'demo' ready with 4 registered materialized views"
                + " (set matviews.dev.seed=false to skip)");
    }

    private static String script() {
        try (InputStream in = DemoSeeder.class.getResourceAsStream("/dev/demo.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
