package dev.matviews.auth;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/** Says so loudly when the admin API runs without authentication (dev mode and tests). */
@ApplicationScoped
public class OpenAccessWarning {

    private static final Logger LOG = Logger.getLogger(OpenAccessWarning.class);

    void check(@Observes StartupEvent event, AuthService auth) {
        if (auth.writesOpen()) {
            LOG.warn("The admin API is OPEN: no token is required (dev/test profile). Production requires bearer tokens.");
        }
    }
}
