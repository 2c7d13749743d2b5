-- A database that an application already uses, as matviews meets it in the field: the
-- application's tables, views and materialized views in public and in schemas whose names need
-- quoting, its own Flyway history (versions 1-3) and Liquibase changelog, all owned by its roles.
-- Run as the superuser before matviews first starts; then deploy/grants.sql, then service.sql.
CREATE ROLE app_owner NOLOGIN;
CREATE ROLE reporting_owner NOLOGIN;
CREATE ROLE matviews_svc LOGIN PASSWORD 'matviews_svc' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CREATE ON SCHEMA public TO app_owner;
CREATE SCHEMA "Reporting" AUTHORIZATION app_owner;
CREATE SCHEMA private_area AUTHORIZATION app_owner;

SET ROLE app_owner;
CREATE TABLE public.orders (
    id        int PRIMARY KEY,
    customer  text          NOT NULL,
    amount    numeric(10,2) NOT NULL,
    placed_at timestamptz   NOT NULL
);
INSERT INTO public.orders
SELECT g, 'customer ' || (g % 7), g * 1.5, '2026-01-01 00:00:00+00'::timestamptz + g * interval '5 hours'
  FROM generate_series(1, 300) g;
CREATE TABLE public."Order Items" (order_id int REFERENCES public.orders, "SKU" text, qty int);
INSERT INTO public."Order Items" SELECT g, 'sku-' || (g % 11), g % 4 + 1 FROM generate_series(1, 300) g;
CREATE VIEW public.big_orders AS SELECT * FROM public.orders WHERE amount > 100;

CREATE MATERIALIZED VIEW public.customer_totals AS
    SELECT customer, sum(amount) AS total FROM public.orders GROUP BY customer;
CREATE UNIQUE INDEX customer_totals_customer ON public.customer_totals (customer);
CREATE MATERIALIZED VIEW "Reporting"."DailyTotals" AS
    SELECT placed_at::date AS "Day", sum(amount) AS total FROM public.big_orders GROUP BY 1;
CREATE UNIQUE INDEX "DailyTotals_Day" ON "Reporting"."DailyTotals" ("Day");
CREATE MATERIALIZED VIEW private_area.secret_totals AS SELECT count(*) AS n FROM public.orders;

-- Tables named like matviews' own, in a schema that comes first on the service role's
-- search_path (service.sql): a statement that does not qualify its table lands here.
CREATE TABLE "Reporting"._ayb_matview_refreshes (id uuid PRIMARY KEY, schema_name text, view_name text, note text);
INSERT INTO "Reporting"._ayb_matview_refreshes
VALUES ('00000000-0000-0000-0000-00000000000a', 'public', 'customer_totals', 'the application''s own table');
CREATE TABLE "Reporting"._ayb_matview_refresh_runs (id uuid, note text);
CREATE TABLE "Reporting"._ayb_jobs (id uuid, type text, state text, note text);
CREATE TABLE "Reporting"._ayb_job_schedules (id uuid, name text, note text);
CREATE TABLE "Reporting"._matviews_schema_history (installed_rank int, note text);
CREATE SEQUENCE "Reporting"._ayb_matview_run_event_seq;

-- The application's Flyway history, exactly as Flyway creates it.
CREATE TABLE public.flyway_schema_history (
    installed_rank integer                 NOT NULL,
    version        character varying(50),
    description    character varying(200)  NOT NULL,
    type           character varying(20)   NOT NULL,
    script         character varying(1000) NOT NULL,
    checksum       integer,
    installed_by   character varying(100)  NOT NULL,
    installed_on   timestamp without time zone NOT NULL DEFAULT now(),
    execution_time integer                 NOT NULL,
    success        boolean                 NOT NULL,
    CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank)
);
CREATE INDEX flyway_schema_history_s_idx ON public.flyway_schema_history (success);
INSERT INTO public.flyway_schema_history VALUES
    (1, '1', 'create orders', 'SQL', 'V1__create_orders.sql', 1406547131, 'app_owner', '2025-03-01 10:00:00', 41, true),
    (2, '2', 'order items', 'SQL', 'V2__order_items.sql', -1172370263, 'app_owner', '2025-04-02 11:30:00', 17, true),
    (3, '3', 'reporting', 'SQL', 'V3__reporting.sql', 887305148, 'app_owner', '2025-06-15 09:12:00', 230, true);

-- And a Liquibase changelog, as Liquibase creates it.
CREATE TABLE public.databasechangelog (
    id            varchar(255) NOT NULL,
    author        varchar(255) NOT NULL,
    filename      varchar(255) NOT NULL,
    dateexecuted  timestamp    NOT NULL,
    orderexecuted integer      NOT NULL,
    exectype      varchar(10)  NOT NULL,
    md5sum        varchar(35),
    description   varchar(255),
    comments      varchar(255),
    tag           varchar(255),
    liquibase     varchar(20),
    contexts      varchar(255),
    labels        varchar(255),
    deployment_id varchar(10)
);
INSERT INTO public.databasechangelog VALUES
    ('1', 'app', 'db/changelog.xml', '2025-02-01 08:00:00', 1, 'EXECUTED', '9:1f2e3d4c5b6a79880706050403020100',
     'createTable tableName=customers', '', NULL, '4.29.2', NULL, NULL, '8123456789');
CREATE TABLE public.databasechangeloglock (
    id          integer PRIMARY KEY,
    locked      boolean NOT NULL,
    lockgranted timestamp,
    lockedby    varchar(255)
);
INSERT INTO public.databasechangeloglock VALUES (1, false, NULL, NULL);
RESET ROLE;

-- A materialized view of another team, whose role the service is a member of (service.sql).
CREATE MATERIALIZED VIEW "Reporting"."TeamTotals" AS
    SELECT customer, count(*) AS orders FROM public.orders GROUP BY customer;
CREATE UNIQUE INDEX "TeamTotals_customer" ON "Reporting"."TeamTotals" (customer);
-- And one of that team's whose owner may not read what it reads.
CREATE MATERIALIZED VIEW "Reporting"."ItemCounts" AS SELECT "SKU", count(*) AS n FROM public."Order Items" GROUP BY 1;
GRANT USAGE ON SCHEMA "Reporting" TO reporting_owner;
GRANT SELECT ON public.orders TO reporting_owner;
ALTER MATERIALIZED VIEW "Reporting"."TeamTotals" OWNER TO reporting_owner;
ALTER MATERIALIZED VIEW "Reporting"."ItemCounts" OWNER TO reporting_owner;
