-- The job queue and schedules as AllYourBase creates them (its Go migrations), with rows it left:
-- matviews meets these tables already there when it takes over an AllYourBase database. Run as
-- the service's role, which owns them as AllYourBase's role would.
CREATE MATERIALIZED VIEW public.leaderboard AS SELECT g AS id FROM generate_series(1, 5) g;

CREATE TABLE _ayb_jobs (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    type            VARCHAR(100) NOT NULL,
    payload         JSONB NOT NULL DEFAULT '{}',
    state           VARCHAR(20) NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'completed', 'failed', 'canceled')),
    run_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    lease_until     TIMESTAMPTZ,
    worker_id       VARCHAR(100),
    attempts        INT NOT NULL DEFAULT 0,
    max_attempts    INT NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    last_error      TEXT,
    last_run_at     TIMESTAMPTZ,
    idempotency_key VARCHAR(255),
    schedule_id     UUID,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    completed_at    TIMESTAMPTZ,
    canceled_at     TIMESTAMPTZ
);
CREATE INDEX idx_ayb_jobs_claimable ON _ayb_jobs (state, run_at) WHERE state = 'queued';
CREATE INDEX idx_ayb_jobs_lease ON _ayb_jobs (state, lease_until) WHERE state = 'running';
CREATE UNIQUE INDEX idx_ayb_jobs_idempotency ON _ayb_jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE _ayb_job_schedules (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name         VARCHAR(100) NOT NULL UNIQUE,
    job_type     VARCHAR(100) NOT NULL,
    payload      JSONB NOT NULL DEFAULT '{}',
    cron_expr    VARCHAR(100) NOT NULL,
    timezone     VARCHAR(50) NOT NULL DEFAULT 'UTC',
    enabled      BOOLEAN NOT NULL DEFAULT true,
    max_attempts INT NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    next_run_at  TIMESTAMPTZ,
    last_run_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
ALTER TABLE _ayb_jobs ADD CONSTRAINT fk_ayb_jobs_schedule
    FOREIGN KEY (schedule_id) REFERENCES _ayb_job_schedules (id) ON DELETE SET NULL;

INSERT INTO _ayb_job_schedules (id, name, job_type, payload, cron_expr, timezone, next_run_at, last_run_at)
VALUES ('5c4e0000-0000-0000-0000-000000000001', 'nightly_leaderboard', 'materialized_view_refresh',
        '{"view_name": "leaderboard"}', '0 3 * * *', 'Europe/Berlin', '2099-01-01 02:00:00+00',
        '2026-11-01 02:00:00+00');
INSERT INTO _ayb_jobs (id, type, payload, state, attempts, last_run_at, idempotency_key, schedule_id, completed_at)
VALUES ('10b00000-0000-0000-0000-000000000001', 'materialized_view_refresh', '{"view_name": "leaderboard"}',
        'completed', 1, '2026-11-01 02:00:00+00', 'nightly_leaderboard:2026-11-01T02:00:00Z',
        '5c4e0000-0000-0000-0000-000000000001', '2026-11-01 02:00:01+00'),
       ('10b00000-0000-0000-0000-000000000002', 'webhook_delivery', '{"url": "https://example.com/hook"}',
        'failed', 3, '2026-11-02 08:00:00+00', NULL, NULL, '2026-11-02 08:00:05+00');
INSERT INTO _ayb_jobs (id, type, payload, state, canceled_at, idempotency_key)
VALUES ('10b00000-0000-0000-0000-000000000003', 'materialized_view_refresh', '{"view_name": "leaderboard"}',
        'canceled', '2026-11-03 09:00:00+00', 'manual-2026-11-03');
-- Left queued by AllYourBase: matviews runs it.
INSERT INTO _ayb_jobs (id, type, payload, run_at)
VALUES ('10b00000-0000-0000-0000-000000000004', 'materialized_view_refresh', '{"view_name": "leaderboard"}',
        '2026-11-20 00:00:00+00');
