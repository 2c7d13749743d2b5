-- Issue 14, second part: cascades are observable on the event stream, survive the loss of their
-- coordinator, and can be started by a schedule or over one schema.
--
-- event_id orders a cascade's changes among the runs' (the same sequence), so a client resuming
-- the event stream gets both without gaps. lease_until is renewed by the coordinating instance;
-- a running cascade whose lease ran out is marked abandoned by any replica. job_id names the job
-- that started it (a cascading schedule), so that cancelling the job cancels the cascade.
-- schema_name limits refresh-all to one schema.
ALTER TABLE "${flyway:defaultSchema}"._matviews_cascades
    ADD COLUMN IF NOT EXISTS event_id    BIGINT NOT NULL
        DEFAULT nextval('"${flyway:defaultSchema}"._ayb_matview_run_event_seq'),
    ADD COLUMN IF NOT EXISTS lease_until TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS job_id      UUID,
    ADD COLUMN IF NOT EXISTS schema_name VARCHAR(63);

CREATE INDEX IF NOT EXISTS _matviews_cascades_event ON "${flyway:defaultSchema}"._matviews_cascades (event_id);
CREATE INDEX IF NOT EXISTS _matviews_cascades_running
    ON "${flyway:defaultSchema}"._matviews_cascades (lease_until) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS _matviews_cascades_job
    ON "${flyway:defaultSchema}"._matviews_cascades (job_id) WHERE job_id IS NOT NULL;

-- A cascade that starts or ends is announced on the runs' channel, in the transaction that
-- commits it, as runs are (V5). The plan stays out of the payload (NOTIFY takes at most 8000 bytes).
CREATE OR REPLACE FUNCTION _matviews_cascade_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('matviews_runs', jsonb_build_object('cascade', (to_jsonb(NEW) - 'nodes')
        || jsonb_build_object('node_count', jsonb_array_length(NEW.nodes)))::text);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS _matviews_cascade_changed ON _matviews_cascades;
CREATE TRIGGER _matviews_cascade_changed
    AFTER INSERT OR UPDATE OF status ON _matviews_cascades
    FOR EACH ROW EXECUTE FUNCTION _matviews_cascade_changed();
