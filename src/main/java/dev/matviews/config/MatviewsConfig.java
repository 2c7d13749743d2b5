package dev.matviews.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** Settings of the matviews service, under the {@code matviews} prefix. */
@ConfigMapping(prefix = "matviews")
public interface MatviewsConfig {

    /** Names this instance in run history; defaults to the host name (the pod name on Kubernetes). */
    Optional<String> instanceId();

    /**
     * Schema that holds matviews' own tables and its migration history (_matviews_schema_history).
     * The service's role needs USAGE and CREATE on it. Names are case-sensitive.
     */
    @WithDefault("public")
    String schema();

    Refresh refresh();

    Database database();

    Runs runs();

    Jobs jobs();

    Scheduler scheduler();

    Metrics metrics();

    Auth auth();

    Events events();

    Cascade cascade();

    ChangeTracking changeTracking();

    Targets targets();

    Suspension suspension();

    Alerts alerts();

    Incremental incremental();

    /** Incremental views (docs/incremental.md). */
    interface Incremental {
        /**
         * A refresh rebuilds the view in full instead of applying changes when a source table has
         * at least 1,000 pending change rows and more than this share of its rows (pg_class.reltuples).
         */
        @jakarta.validation.constraints.DecimalMin("0")
        @jakarta.validation.constraints.DecimalMax("100")
        @WithDefault("0.2")
        double rebuildShare();

        /**
         * How long registering an incremental view waits for the writers of its source tables at
         * that moment (installing capture takes a lock they hold); then it is answered busy (503).
         */
        @WithDefault("5s")
        Duration lockTimeout();
    }

    /** Alerts: the outbox every replica writes and one at a time delivers to a webhook (docs/freshness.md). */
    interface Alerts {
        Webhook webhook();

        /** Alerts older than this are deleted, delivered or not. */
        @WithDefault("168h")
        Duration retention();

        /** The outbox keeps at most this many alerts; past it the oldest are deleted (a dead endpoint fills no memory). */
        @WithDefault("10000")
        int maxRows();

        /** First retry delay of a failed delivery; doubles per attempt. */
        @WithDefault("1s")
        Duration retryBase();

        /** Longest retry delay. */
        @WithDefault("5m")
        Duration retryCap();

        interface Webhook {
            /** Where alerts are POSTed as JSON; none: alerts are only kept (and streamed as events). */
            Optional<String> url();

            /** Signs each body: header X-Matviews-Signature: sha256=HMAC-SHA256(secret, body) in hex. */
            Optional<String> secret();

            /** Which alerts are delivered: any of refresh-failed, suspended, target-missed, recovered. */
            @WithDefault("refresh-failed,suspended,target-missed,recovered")
            java.util.List<String> events();

            /** How long a delivery may take before it counts as failed. */
            @WithDefault("10s")
            Duration timeout();
        }
    }

    /** Suspending registrations whose scheduled refreshes keep failing (docs/freshness.md). */
    interface Suspension {
        /**
         * Scheduled or target-driven refreshes that may fail in a row before the registration (and
         * every registered view that reads it) is suspended; 0: never suspend. Manual refreshes do
         * not count; any success resets the count.
         */
        @WithDefault("5")
        int afterFailures();
    }

    /** Freshness targets (targetLag): how the scheduler keeps them. docs/freshness.md. */
    interface Targets {
        /**
         * Time a target's refresh is started before it is strictly needed, beyond its predicted
         * duration: room for a worker to take the job and for the prediction to be short. At most
         * {@link #marginShare()} of the target.
         */
        @WithDefault("1s")
        Duration margin();

        /** The largest part of a target the margin may take. */
        @WithDefault("0.2")
        double marginShare();

        /** Shortest time between two checks of a view nothing changed in (its lag stays near zero meanwhile). */
        @WithDefault("250ms")
        Duration minCheckInterval();

        /** Views looked at per keeper pass; the rest wait for the next, least slack first. */
        @WithDefault("200")
        int batch();

        /**
         * A registered source whose data is at most this part of a reader's target old is read as it
         * is instead of refreshed for that reader: a source shared by several views with targets is
         * then refreshed once for all of them. 0 refreshes every changed source for every reader.
         * Never more than half of what the reader's budget (target - predicted duration - margin) leaves.
         */
        @jakarta.validation.constraints.DecimalMin("0")
        @jakarta.validation.constraints.DecimalMax("0.5")
        @WithDefault("0.25")
        double upstreamReuseShare();
    }

    interface ChangeTracking {
        /**
         * How often each replica compacts the change log of skipUnchanged; between passes it grows
         * by one row per writing statement on a tracked table, and every skip decision reads it.
         */
        @WithDefault("5s")
        Duration compactInterval();

        /**
         * Capture stops when no replica compacted the log for this long (all of them stopped):
         * writers then log nothing, and views reading tracked tables are refreshed in full, saying
         * why, until change tracking is turned on again. Like max_slot_wal_keep_size for a slot.
         */
        @WithDefault("6h")
        Duration maxLogAge();

        /** Capture stops when the change log grows past this size on disk, likewise. */
        @WithDefault("1G")
        io.quarkus.runtime.configuration.MemorySize maxLogSize();
    }

    interface Cascade {
        /** Nodes of one cascade refreshed at once, unless the request says otherwise (1 to 1000). */
        @WithDefault("4")
        int parallelism();

        /** A node whose view is being refreshed elsewhere: wait for it (then refresh), or skip it. */
        @WithDefault("wait")
        String onBusy();

        /** How long a node waits for a busy view before it is skipped. */
        @WithDefault("10m")
        java.time.Duration busyWait();

        /**
         * How long a running cascade stays its instance's without a renewal (renewed every third of
         * it); after that any replica marks it abandoned, its unstarted nodes with it.
         */
        @WithDefault("30s")
        java.time.Duration lease();
    }

    interface Auth {
        /** Password that POST /api/admin/auth exchanges for an admin token (from a Secret). */
        Optional<String> adminPassword();

        /** Password that POST /api/admin/auth exchanges for a viewer (read-only) token. */
        Optional<String> viewerPassword();

        /**
         * HS256 key (at least 32 bytes) that signs and verifies built-in tokens; the same on every
         * replica, so a token from one works on all. Leave empty to accept only an external
         * identity provider's tokens.
         */
        Optional<String> signingKey();

        /** Lifetime of built-in tokens. */
        @WithDefault("8h")
        Duration tokenTtl();

        /** Issuer of built-in tokens (mp.jwt.verify.issuer must match). */
        @WithDefault("matviews")
        String issuer();

        Login login();

        /**
         * Guessing limits of POST /api/admin/auth, per client address (per /64 for IPv6; behind
         * a proxy, enable quarkus.http.proxy.proxy-address-forwarding so that this is the real
         * client's). Attempts beyond the free ones must wait a doubling backoff and are refused
         * with 429 before any password is checked.
         */
        interface Login {
            /** Attempts a client may make at once before the backoff starts. */
            @WithDefault("5")
            int freeAttempts();

            /** Longest wait between two checked attempts of one client. */
            @WithDefault("15m")
            Duration maxBackoff();

            /** One of a client's attempts is forgotten per this long without one. */
            @WithDefault("15m")
            Duration forgetAfter();

            /**
             * Clients tracked at once (rows of the shared table). A new client that finds it full
             * pushes out records that decayed to nothing, then the least tried ones.
             */
            @WithDefault("10000")
            int trackedClients();
        }
    }

    interface Metrics {
        /** How often per-view freshness and the job queue depth are read from the database for the gauges. */
        @WithDefault("15s")
        Duration pollInterval();

        /**
         * At most this many views get per-view series (the stale ones first, then the longest
         * without a success); the totals always cover every view.
         */
        @WithDefault("1000")
        int maxViews();
    }

    interface Scheduler {
        /** Fire schedules and run jobs on this instance. */
        @WithDefault("true")
        boolean enabled();

        /** Jobs this instance runs at once. */
        @WithDefault("4")
        int workers();

        /** How long a claimed job stays this worker's without a renewal; renewed every third of it. */
        @WithDefault("30s")
        Duration lease();

        /** A schedule later than this past its due time was missed (all replicas down): its missed-run policy applies. */
        @WithDefault("60s")
        Duration missedGrace();

        /** Longest sleep between looks at the queue when nothing is due and no change was announced. */
        @WithDefault("30s")
        Duration maxSleep();

        /** On shutdown, how long running jobs may finish before their refreshes are cancelled and their jobs handed back. */
        @WithDefault("20s")
        Duration shutdownGrace();

        /** First retry delay of a transient failure; doubles per attempt. */
        @WithDefault("5s")
        Duration retryBase();

        /** Longest retry delay. */
        @WithDefault("5m")
        Duration retryCap();
    }

    Dev dev();

    EmbeddedPostgres embeddedPostgres();

    interface Events {
        /**
         * Run events one event-stream client may be behind before it is sent a {@code resync}
         * event and disconnected: what bounds its memory when it stops reading.
         */
        @WithDefault("256")
        int buffer();

        /** Event streams open at once on this instance; beyond it, 503 with Retry-After. */
        @WithDefault("64")
        int maxStreams();

        /**
         * Event streams one principal (a built-in token, a user of the identity provider, or a
         * client address where no token is needed) may hold open at once on this instance, so
         * that one cannot take every slot; beyond it, 503 with Retry-After.
         */
        @WithDefault("8")
        int maxStreamsPerPrincipal();

        /**
         * A comment line sent on a stream that was quiet this long: proxies do not cut it as idle,
         * and a client that went away is found when the write fails. 0 sends none.
         */
        @WithDefault("15s")
        Duration heartbeat();
    }

    interface Database {
        /**
         * At start-up, how long to wait for the database to answer (a pod started before its
         * database, a failover in progress) before giving up; retried with backoff meanwhile.
         */
        @WithDefault("5m")
        Duration startupWait();

        /** How long the readiness check waits for the database to answer SELECT 1. */
        @WithDefault("2s")
        Duration readinessTimeout();
    }

    interface Refresh {
        /**
         * Refreshes this instance runs at once. Each pins one pooled connection for its whole
         * duration, so keep it below quarkus.datasource.reactive.max-size to leave connections for
         * the rest of the API; beyond it a refresh is answered 503.
         */
        @WithDefault("10")
        int maxConcurrent();

        /** statement_timeout of a refresh when its registration sets none; 0 for no limit. */
        @WithDefault("1h")
        Duration statementTimeout();

        /** lock_timeout of a refresh (waiting for the view's table lock) when its registration sets none. */
        @WithDefault("1m")
        Duration lockTimeout();

        /**
         * client_connection_check_interval of the refreshing session: how soon PostgreSQL notices
         * that this instance died and stops the REFRESH, instead of holding the view's lock until
         * it ends. 0 turns the check off.
         */
        @WithDefault("5s")
        Duration connectionCheckInterval();

        /**
         * On shutdown (SIGTERM), how long running refreshes may finish before they are cancelled
         * (recorded as cancelled, their callers answered). New refreshes are refused (503) from
         * the start. Keep shutdown delay + this + a few seconds below the pod's
         * terminationGracePeriodSeconds.
         */
        @WithDefault("20s")
        Duration shutdownGrace();
    }

    interface Jobs {
        Retention retention();

        /** Finished jobs (completed, failed, canceled) are deleted like runs: by age and count, in batches. */
        interface Retention {
            /** Finished jobs older than this are deleted. */
            @WithDefault("7d")
            Duration maxAge();

            /** Finished jobs beyond this many per schedule, newest kept, are deleted. */
            @WithDefault("1000")
            int maxPerSchedule();

            /** How often the retention job runs. */
            @WithDefault("1h")
            Duration interval();

            /** Rows deleted per statement. */
            @WithDefault("500")
            int batchSize();
        }
    }

    interface Runs {
        /** How often runs left running by a dead instance are looked for (also done at start-up). */
        @WithDefault("30s")
        Duration abandonCheckInterval();

        Retention retention();

        interface Retention {
            /** Finished runs older than this are deleted. */
            @WithDefault("30d")
            Duration maxAge();

            /** Finished runs beyond this many per view, newest kept, are deleted. */
            @WithDefault("1000")
            int maxPerView();

            /** How often the retention job runs. */
            @WithDefault("1h")
            Duration interval();

            /** Rows deleted per statement, so deletes never hold locks for long. */
            @WithDefault("500")
            int batchSize();
        }
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
