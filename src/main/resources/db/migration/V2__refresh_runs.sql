-- Every refresh attempt is a run; the registry keeps the latest outcome in step with them.
ALTER TABLE _ayb_matview_refreshes
    ADD COLUMN IF NOT EXISTS statement_timeout_ms INT CHECK (statement_timeout_ms >= 0),
    ADD COLUMN IF NOT EXISTS lock_timeout_ms      INT CHECK (lock_timeout_ms >= 0),
    ADD COLUMN IF NOT EXISTS last_success_at      TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS current_run_id       UUID;

-- Orders run events (started, finished) for Server-Sent Events ids and Last-Event-ID replay.
CREATE SEQUENCE IF NOT EXISTS _ayb_matview_run_event_seq;

-- No foreign key to the registry: history outlives an unregistered view.
CREATE TABLE IF NOT EXISTS _ayb_matview_refresh_runs (
    id                  UUID         NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    registration_id     UUID         NOT NULL,
    schema_name         VARCHAR(63)  NOT NULL,
    view_name           VARCHAR(63)  NOT NULL,
    refresh_mode        VARCHAR(20)  NOT NULL,
    trigger             VARCHAR(20)  NOT NULL
        CHECK (trigger IN ('manual', 'async', 'schedule', 'cascade')),
    status              VARCHAR(20)  NOT NULL
        CHECK (status IN ('running', 'success', 'error', 'cancelled', 'timeout', 'skipped', 'abandoned')),
    instance_id         VARCHAR(255) NOT NULL,
    backend_pid         INT,
    backend_start       TIMESTAMPTZ,
    lock_key            INT,
    started_at          TIMESTAMPTZ  NOT NULL DEFAULT clock_timestamp(),
    finished_at         TIMESTAMPTZ,
    duration_ms         INT,
    error               TEXT,
    sqlstate            VARCHAR(5),
    cancel_requested_at TIMESTAMPTZ,
    event_id            BIGINT       NOT NULL DEFAULT nextval('_ayb_matview_run_event_seq'),
    CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE INDEX IF NOT EXISTS _ayb_matview_refresh_runs_registration
    ON _ayb_matview_refresh_runs (registration_id, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS _ayb_matview_refresh_runs_event ON _ayb_matview_refresh_runs (event_id);
CREATE INDEX IF NOT EXISTS _ayb_matview_refresh_runs_running
    ON _ayb_matview_refresh_runs (started_at) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS _ayb_matview_refresh_runs_finished ON _ayb_matview_refresh_runs (finished_at);
