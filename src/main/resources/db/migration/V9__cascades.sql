-- Issue 14. A cascade refreshes registered views in the order of the dependency graph; each node
-- is an ordinary run (trigger 'cascade') that names its cascade. The cascade's own row holds its
-- plan, so any replica can show it, and its outcome.
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_cascades (
    id                   UUID         NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    direction            VARCHAR(20)  NOT NULL CHECK (direction IN ('downstream', 'upstream', 'all')),
    root_registration_id UUID,
    trigger              VARCHAR(20)  NOT NULL CHECK (trigger IN ('manual', 'async', 'schedule')),
    status               VARCHAR(20)  NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'success', 'failed', 'cancelled', 'abandoned')),
    instance_id          VARCHAR(255) NOT NULL,
    parallelism          INT          NOT NULL CHECK (parallelism BETWEEN 1 AND 1000),
    on_busy              VARCHAR(10)  NOT NULL CHECK (on_busy IN ('wait', 'skip')),
    -- [{"registrationId", "schemaName", "viewName", "after": [registrationId, ...]}, ...], parents first
    nodes                JSONB        NOT NULL,
    started_at           TIMESTAMPTZ  NOT NULL DEFAULT clock_timestamp(),
    finished_at          TIMESTAMPTZ,
    cancel_requested_at  TIMESTAMPTZ,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX IF NOT EXISTS _matviews_cascades_started ON "${flyway:defaultSchema}"._matviews_cascades (started_at);

ALTER TABLE "${flyway:defaultSchema}"._ayb_matview_refresh_runs ADD COLUMN IF NOT EXISTS cascade_id UUID;
CREATE INDEX IF NOT EXISTS _ayb_matview_refresh_runs_cascade
    ON "${flyway:defaultSchema}"._ayb_matview_refresh_runs (cascade_id, started_at) WHERE cascade_id IS NOT NULL;
