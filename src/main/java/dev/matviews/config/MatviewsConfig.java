package dev.matviews.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings of the matviews service, under the {@code matviews} prefix. */
@ConfigMapping(prefix = "matviews")
public interface MatviewsConfig {

    Refresh refresh();

    Dev dev();

    EmbeddedPostgres embeddedPostgres();

    interface Refresh {
        /**
         * Refreshes this instance runs at once. Each pins one pooled connection for its whole
         * duration, so keep it below quarkus.datasource.reactive.max-size to leave connections for
         * the rest of the API; beyond it a refresh is answered 503.
         */
        @WithDefault("10")
        int maxConcurrent();
    }

    interface EmbeddedPostgres {
        /**
         * Dev mode and tests only: start an embedded PostgreSQL when no datasource URL is set and
         * no container runtime is there for Dev Services. Read while configuration is assembled.
         */
        @WithDefault("true")
        boolean enabled();
    }

    interface Dev {
        /** In dev mode, create the demo schema and register its views at start-up. */
        @WithDefault("true")
        boolean seed();
    }
}
