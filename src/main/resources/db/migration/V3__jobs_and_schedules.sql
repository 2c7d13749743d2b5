-- The original system's generic job queue and schedules, plus what exactly-once firing,
-- bounded refreshes and missed-run handling need.
CREATE TABLE IF NOT EXISTS _ayb_job_schedules (
    id                UUID         NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    name              VARCHAR(200) NOT NULL UNIQUE,
    job_type          VARCHAR(100) NOT NULL,
    payload           JSONB        NOT NULL DEFAULT '{}'::jsonb,
    cron_expr         VARCHAR(200) NOT NULL,
    timezone          VARCHAR(64)  NOT NULL DEFAULT 'UTC',
    enabled           BOOLEAN      NOT NULL DEFAULT true,
    max_attempts      INT          NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    max_runtime_ms    INT          NOT NULL DEFAULT 3600000 CHECK (max_runtime_ms > 0),
    missed_run_policy VARCHAR(20)  NOT NULL DEFAULT 'run_once' CHECK (missed_run_policy IN ('run_once', 'skip')),
    next_run_at       TIMESTAMPTZ,
    last_run_at       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    updated_at        TIMESTAMPTZ  NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS _ayb_job_schedules_due ON _ayb_job_schedules (next_run_at) WHERE enabled;
CREATE INDEX IF NOT EXISTS _ayb_job_schedules_view
    ON _ayb_job_schedules ((payload ->> 'view_name')) WHERE job_type = 'materialized_view_refresh';

CREATE TABLE IF NOT EXISTS _ayb_jobs (
    id                  UUID         NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    type                VARCHAR(100) NOT NULL,
    payload             JSONB        NOT NULL DEFAULT '{}'::jsonb,
    state               VARCHAR(20)  NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'completed', 'failed', 'canceled')),
    run_at              TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    attempts            INT          NOT NULL DEFAULT 0,
    max_attempts        INT          NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    max_runtime_ms      INT          NOT NULL DEFAULT 3600000 CHECK (max_runtime_ms > 0),
    lease_until         TIMESTAMPTZ,
    worker_id           VARCHAR(255),
    last_error          TEXT,
    last_run_id         UUID,
    schedule_id         UUID REFERENCES _ayb_job_schedules (id) ON DELETE SET NULL,
    idempotency_key     VARCHAR(255) UNIQUE,
    cancel_requested_at TIMESTAMPTZ,
    created_at          TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    updated_at          TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    completed_at        TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS _ayb_jobs_queued ON _ayb_jobs (run_at) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS _ayb_jobs_leases ON _ayb_jobs (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS _ayb_jobs_schedule ON _ayb_jobs (schedule_id, created_at DESC);
