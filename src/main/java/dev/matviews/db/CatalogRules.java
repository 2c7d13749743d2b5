package dev.matviews.db;

/**
 * PostgreSQL's own rules for refreshing a materialized view, as SQL expressions over the
 * catalog, shared by the refresh preflight and the catalog so both say the same thing.
 */
public final class CatalogRules {

    private CatalogRules() {
    }

    /**
     * What the current role lacks to refresh the matview {@code c} in namespace {@code n}, or
     * null: USAGE on its schema, then MAINTAIN (PostgreSQL 17+, held by owners, pg_maintain
     * members and grantees) or, before 17, the owner's privileges (owner or a member of the
     * owning role): exactly REFRESH's own checks.
     */
    public static final String MISSING_PRIVILEGE = """
            CASE WHEN NOT has_schema_privilege(n.oid, 'USAGE') THEN 'USAGE'
                 WHEN current_setting('server_version_num')::int >= 170000
                      THEN CASE WHEN NOT has_table_privilege(c.oid, 'MAINTAIN') THEN 'MAINTAIN' END
                 WHEN NOT pg_has_role(c.relowner, 'USAGE') THEN 'OWNER'
            END""";

    /**
     * Why the unique index {@code i} (its class {@code ic}, access method {@code am}) cannot
     * serve REFRESH ... CONCURRENTLY, or null if it can: PostgreSQL's is_usable_unique_index in
     * matview.c.
     */
    public static final String UNUSABLE_INDEX_REASON = """
            CASE WHEN NOT i.indisvalid THEN 'invalid'
                 WHEN NOT i.indimmediate THEN 'deferrable'
                 WHEN i.indpred IS NOT NULL THEN 'partial (has a WHERE clause)'
                 WHEN i.indexprs IS NOT NULL THEN 'on an expression'
                 WHEN am.amname <> 'btree' THEN 'not a btree index'
                 WHEN i.indnkeyatts = 0 THEN 'without key columns'
            END""";
}
