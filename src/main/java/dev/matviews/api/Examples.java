package dev.matviews.api;

/** Example JSON for the OpenAPI document. */
final class Examples {
    private Examples() {
    }

    static final String REGISTRATION = """
            {"id":"5f0c9a4e-1c1f-4d8e-9a43-0f6f3f7c2b1a","schemaName":"public","viewName":"leaderboard",
             "refreshMode":"concurrent","lastRefreshAt":"2026-11-23T10:15:30.123Z","lastRefreshDurationMs":42,
             "lastRefreshStatus":"success","lastRefreshError":null,
             "createdAt":"2026-11-20T08:00:00Z","updatedAt":"2026-11-23T10:15:30.123Z",
             "lastSuccessAt":"2026-11-23T10:15:30.123Z","currentRunId":null,
             "statementTimeoutMs":null,"lockTimeoutMs":5000}""";

    static final String LIST = "{\"items\":[" + REGISTRATION + "],\"count\":1}";

    static final String REGISTER = """
            {"schema":"public","viewName":"leaderboard","refreshMode":"concurrent"}""";

    static final String UPDATE = """
            {"refreshMode":"standard"}""";

    static final String REFRESHED = "{\"registration\":" + REGISTRATION
            + ",\"durationMs\":42,\"runId\":\"0d4f6a52-95a8-4a0e-b8c1-1d6e2f3a4b5c\"}";

    static final String RUN_STARTED = """
            {"id":"0d4f6a52-95a8-4a0e-b8c1-1d6e2f3a4b5c","registrationId":"5f0c9a4e-1c1f-4d8e-9a43-0f6f3f7c2b1a",
             "schemaName":"public","viewName":"leaderboard","refreshMode":"concurrent","trigger":"async",
             "status":"running","instanceId":"matviews-7d9c6b5f4-x2v8q","backendPid":4242,
             "startedAt":"2026-11-23T10:15:30.081Z","finishedAt":null,"durationMs":null,"error":null,
             "sqlState":null,"cancelRequestedAt":null}""";

    static final String INVALID = """
            {"type":"urn:matviews:problem:invalid-request","title":"Invalid request","status":400,
             "detail":"viewName must be at most 63 bytes long","code":400,
             "message":"viewName must be at most 63 bytes long"}""";

    static final String NOT_FOUND = """
            {"type":"urn:matviews:problem:registration-not-found","title":"Registration not found","status":404,
             "detail":"no materialized view is registered with id 5f0c9a4e-1c1f-4d8e-9a43-0f6f3f7c2b1a","code":404,
             "message":"no materialized view is registered with id 5f0c9a4e-1c1f-4d8e-9a43-0f6f3f7c2b1a"}""";

    static final String NOT_A_MATVIEW = """
            {"type":"urn:matviews:problem:matview-not-found","title":"Materialized view not found","status":404,
             "detail":"no materialized view public.orders exists in the database","code":404,
             "message":"no materialized view public.orders exists in the database"}""";

    static final String GONE = """
            {"type":"urn:matviews:problem:matview-gone","title":"Materialized view no longer exists","status":404,
             "detail":"materialized view public.leaderboard no longer exists","code":404,
             "message":"materialized view public.leaderboard no longer exists"}""";

    static final String ALREADY_REGISTERED = """
            {"type":"urn:matviews:problem:already-registered","title":"Already registered","status":409,
             "detail":"materialized view public.leaderboard is already registered","code":409,
             "message":"materialized view public.leaderboard is already registered"}""";

    static final String IN_PROGRESS = """
            {"type":"urn:matviews:problem:refresh-in-progress","title":"Refresh already in progress","status":409,
             "detail":"a refresh of public.leaderboard is already in progress","code":409,
             "message":"a refresh of public.leaderboard is already in progress"}""";

    static final String NO_INDEX = """
            {"type":"urn:matviews:problem:unique-index-required","title":"Concurrent refresh needs a usable unique index",
             "status":409,"detail":"refreshing public.leaderboard concurrently needs a unique index on plain columns that is valid, immediate, non-partial and btree; none qualifies: leaderboard_top is partial (has a WHERE clause)",
             "code":409,"message":"refreshing public.leaderboard concurrently needs a unique index on plain columns that is valid, immediate, non-partial and btree; none qualifies: leaderboard_top is partial (has a WHERE clause)"}""";

    static final String NOT_PERMITTED = """
            {"type":"urn:matviews:problem:refresh-not-permitted","title":"The service's database role may not refresh this view",
             "status":409,"detail":"role matviews may not refresh materialized view reporting.daily_totals: it needs the MAINTAIN privilege on reporting.daily_totals (GRANT MAINTAIN ON \\"reporting\\".\\"daily_totals\\" TO matviews, or membership in pg_maintain or in its owner role app_owner) (SQLSTATE 42501)",
             "code":409,"message":"role matviews may not refresh materialized view reporting.daily_totals: it needs the MAINTAIN privilege on reporting.daily_totals (GRANT MAINTAIN ON \\"reporting\\".\\"daily_totals\\" TO matviews, or membership in pg_maintain or in its owner role app_owner) (SQLSTATE 42501)",
             "sqlState":"42501","runId":"7d9c2c1e-5b7a-4f0e-9a51-3c1f0b2d4e6a"}""";

    static final String NOT_POPULATED = """
            {"type":"urn:matviews:problem:not-populated","title":"Concurrent refresh needs a populated view","status":409,
             "detail":"materialized view public.leaderboard is not populated (created WITH NO DATA or never refreshed); CONCURRENTLY needs one standard refresh first",
             "code":409,"message":"materialized view public.leaderboard is not populated (created WITH NO DATA or never refreshed); CONCURRENTLY needs one standard refresh first"}""";

    static final String FAILED = """
            {"type":"urn:matviews:problem:refresh-failed","title":"Refresh failed","status":500,
             "detail":"refresh of public.leaderboard failed: division by zero (SQLSTATE 22012)","code":500,
             "message":"refresh of public.leaderboard failed: division by zero (SQLSTATE 22012)","sqlState":"22012"}""";

    static final String CAPACITY = """
            {"type":"urn:matviews:problem:refresh-capacity","title":"Too many refreshes in progress","status":503,
             "detail":"all 10 refresh slots of this instance are busy; try again shortly","code":503,
             "message":"all 10 refresh slots of this instance are busy; try again shortly"}""";
}
