-- Issue 12. GET /api/admin/jobs sorts the whole table by created_at: give it an index, and one
-- for the retention of finished jobs (by age; by count per schedule uses _ayb_jobs_schedule).
-- Plain CREATE INDEX: on a table of millions of jobs it blocks job inserts for seconds, once,
-- while the replicas start (CONCURRENTLY cannot run inside Flyway's migration transaction).
CREATE INDEX IF NOT EXISTS _ayb_jobs_created ON _ayb_jobs (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS _ayb_jobs_finished ON _ayb_jobs (completed_at)
    WHERE state IN ('completed', 'failed', 'canceled');
