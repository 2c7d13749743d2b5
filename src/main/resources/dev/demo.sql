-- Demo data for dev mode: idempotent, so it runs on every start and live reload.
CREATE SCHEMA IF NOT EXISTS demo;

CREATE TABLE IF NOT EXISTS demo.players (
    id      INT PRIMARY KEY,
    name    TEXT NOT NULL,
    country TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS demo.scores (
    id        BIGSERIAL PRIMARY KEY,
    player_id INT NOT NULL REFERENCES demo.players (id),
    points    INT NOT NULL,
    scored_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO demo.players
SELECT g, 'player_' || g, (ARRAY ['de', 'fr', 'us', 'jp', 'br'])[1 + g % 5]
FROM generate_series(1, 200) g
ON CONFLICT DO NOTHING;

INSERT INTO demo.scores (player_id, points, scored_at)
SELECT 1 + g % 200, (g * 7919) % 1000, now() - (g % 720) * interval '1 hour'
FROM generate_series(1, 20000) g
WHERE NOT EXISTS (SELECT 1 FROM demo.scores);

-- Has a usable unique index: auto refreshes it concurrently.
CREATE MATERIALIZED VIEW IF NOT EXISTS demo.leaderboard AS
SELECT p.id AS player_id, p.name, sum(s.points) AS total_points, count(*) AS games
FROM demo.players p JOIN demo.scores s ON s.player_id = p.id
GROUP BY p.id, p.name;
CREATE UNIQUE INDEX IF NOT EXISTS leaderboard_player_id ON demo.leaderboard (player_id);

-- No unique index: auto refreshes it in standard mode.
CREATE MATERIALIZED VIEW IF NOT EXISTS demo.daily_points AS
SELECT date_trunc('day', scored_at) AS day, sum(points) AS points, count(*) AS scores
FROM demo.scores
GROUP BY 1;

-- Built on another materialized view: refresh demo.leaderboard first.
CREATE MATERIALIZED VIEW IF NOT EXISTS demo.country_totals AS
SELECT p.country, sum(l.total_points) AS points, count(*) AS players
FROM demo.leaderboard l JOIN demo.players p ON p.id = l.player_id
GROUP BY p.country;
CREATE UNIQUE INDEX IF NOT EXISTS country_totals_country ON demo.country_totals (country);

-- Created WITH NO DATA: auto refreshes it in standard mode once (CONCURRENTLY would be refused),
-- concurrently from then on.
CREATE MATERIALIZED VIEW IF NOT EXISTS demo.hourly_activity AS
SELECT date_trunc('hour', scored_at) AS hour, count(*) AS scores
FROM demo.scores
GROUP BY 1
WITH NO DATA;
CREATE UNIQUE INDEX IF NOT EXISTS hourly_activity_hour ON demo.hourly_activity (hour);

INSERT INTO ${registry} (schema_name, view_name, refresh_mode)
VALUES ('demo', 'leaderboard', 'auto'),
       ('demo', 'daily_points', 'auto'),
       ('demo', 'country_totals', 'auto'),
       ('demo', 'hourly_activity', 'auto')
ON CONFLICT (schema_name, view_name) DO NOTHING;
