-- Issue 25, item 3: the login throttle's budget lives in the database, so it is shared by every
-- replica and survives restarts (it was per replica, in memory).
--
-- One row per client (an IPv4 address, an IPv6 /64). attempts decays by one per decay period
-- without an attempt, so a client does not get its free attempts back each period; blocked_until
-- is when it may try again. The table is bounded: a new client that finds it full pushes out the
-- records that decayed to nothing, then the least tried ones, never a guesser's long record, and
-- never has to share one (a flood of addresses cannot lock new clients out).
CREATE TABLE IF NOT EXISTS "${flyway:defaultSchema}"._matviews_login_attempts (
    client        TEXT PRIMARY KEY,
    attempts      INT NOT NULL,
    last_attempt  TIMESTAMPTZ NOT NULL,
    blocked_until TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS _matviews_login_attempts_least
    ON "${flyway:defaultSchema}"._matviews_login_attempts (attempts, last_attempt);

-- Admits one attempt of p_client at p_now: 0 if it may go ahead (and is counted), else the
-- milliseconds to wait. Free attempts, then a doubling backoff from 1 s up to p_max_backoff_ms.
CREATE OR REPLACE FUNCTION "${flyway:defaultSchema}"._matviews_login_admit(
    p_client TEXT, p_now TIMESTAMPTZ, p_free INT, p_max_backoff_ms BIGINT, p_decay_ms BIGINT, p_tracked INT)
    RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
    tracked BIGINT;
    n INT;
    wait_ms BIGINT;
BEGIN
    SELECT * INTO r FROM "${flyway:defaultSchema}"._matviews_login_attempts WHERE client = p_client FOR UPDATE;
    IF NOT FOUND THEN
        SELECT count(*) INTO tracked FROM "${flyway:defaultSchema}"._matviews_login_attempts;
        IF tracked >= p_tracked THEN
            DELETE FROM "${flyway:defaultSchema}"._matviews_login_attempts
             WHERE last_attempt + attempts * p_decay_ms * interval '1 millisecond' <= p_now
               AND blocked_until <= p_now;
            GET DIAGNOSTICS n = ROW_COUNT;
            tracked := tracked - n;
            IF tracked >= p_tracked THEN
                DELETE FROM "${flyway:defaultSchema}"._matviews_login_attempts WHERE client IN (
                    SELECT client FROM "${flyway:defaultSchema}"._matviews_login_attempts
                     ORDER BY attempts, last_attempt LIMIT tracked - p_tracked + 1 FOR UPDATE SKIP LOCKED);
            END IF;
        END IF;
        INSERT INTO "${flyway:defaultSchema}"._matviews_login_attempts AS a (client, attempts, last_attempt, blocked_until)
        VALUES (p_client, 0, p_now, p_now) ON CONFLICT (client) DO NOTHING;
        SELECT * INTO r FROM "${flyway:defaultSchema}"._matviews_login_attempts WHERE client = p_client FOR UPDATE;
    END IF;
    IF r.blocked_until > p_now THEN
        RETURN ceil(extract(epoch FROM r.blocked_until - p_now) * 1000)::BIGINT;
    END IF;
    n := greatest(0, r.attempts - floor(extract(epoch FROM p_now - r.last_attempt) * 1000 / p_decay_ms)::INT) + 1;
    wait_ms := CASE WHEN n <= p_free THEN 0
                    WHEN n - p_free > 40 THEN p_max_backoff_ms
                    ELSE least(p_max_backoff_ms, 1000::BIGINT << (n - p_free - 1)) END;
    UPDATE "${flyway:defaultSchema}"._matviews_login_attempts
       SET attempts = n, last_attempt = p_now, blocked_until = p_now + wait_ms * interval '1 millisecond'
     WHERE client = p_client;
    RETURN 0;
END $$;
