-- How old a view's last successful refresh may get before it counts as stale (null: never).
ALTER TABLE _ayb_matview_refreshes
    ADD COLUMN IF NOT EXISTS max_staleness_seconds INT CHECK (max_staleness_seconds > 0);
