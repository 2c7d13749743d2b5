package dev.matviews.support;

import dev.matviews.db.AdvisoryLocks;
import org.eclipse.microprofile.config.ConfigProvider;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;

/**
 * A plain JDBC session of its own, next to the service's pool: it sets up views, holds locks
 * as "another session" would, and looks at pg_locks and pg_stat_activity from outside. It is the
 * service's own role (its views are the service's to refresh) with search_path public, or the
 * superuser for what that role may not do.
 */
public final class TestDb implements AutoCloseable {

    private final Connection connection;

    private TestDb(Connection connection) {
        this.connection = connection;
    }

    public static TestDb open() {
        var config = ConfigProvider.getConfig();
        return open(config.getValue("quarkus.datasource.username", String.class),
                config.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
    }

    /** The database's superuser, for what the service's role may not do. */
    public static TestDb openAsSuperuser() {
        return open(LivedInDatabase.SUPERUSER, "");
    }

    private static TestDb open(String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        var config = ConfigProvider.getConfig();
        String url = config.getValue("quarkus.datasource.jdbc.url", String.class);
        if (LivedInDatabase.SUPERUSER.equals(user)) {
            // behind a pooler only the service's role is let in: the superuser goes to the server
            url = config.getOptionalValue("test.superuser-jdbc-url", String.class).orElse(url);
        }
        try {
            Connection connection = DriverManager.getConnection(url, props);
            try (Statement st = connection.createStatement()) {
                // a SET, not the start-up parameter currentSchema, which a pooler refuses
                st.execute("SET search_path TO public");
            }
            return new TestDb(connection);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs SQL in a fresh short session. */
    public static void run(String sql) {
        try (TestDb db = open()) {
            db.exec(sql);
        }
    }

    /** Runs SQL in a fresh short session of the superuser. */
    public static void runAsSuperuser(String sql) {
        try (TestDb db = openAsSuperuser()) {
            db.exec(sql);
        }
    }

    public static long count(String sql) {
        try (TestDb db = open()) {
            return db.queryLong(sql);
        }
    }

    public static String string(String sql) {
        try (TestDb db = open()) {
            return db.queryString(sql);
        }
    }

    /** A name no other test uses, so tests share one database without interfering. */
    public static String uniqueName(String prefix) {
        return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }

    /** Advisory locks of this service held by any session, as pg_locks shows them. */
    public static long ourAdvisoryLocks() {
        return count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
                + " AND classid = " + AdvisoryLocks.NAMESPACE);
    }

    /** REFRESH statements of that view running in any session. */
    public static long runningRefreshesOf(String view) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                + " AND query ILIKE '%REFRESH MATERIALIZED VIEW%" + view + "%' AND pid <> pg_backend_pid()");
    }

    public void exec(String sql) {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public long queryLong(String sql) {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public String queryString(String sql) {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Takes the service's lock on a matview, as a competing session would. */
    public void lockView(String schema, String view) {
        exec("SELECT pg_advisory_lock(" + AdvisoryLocks.NAMESPACE + ", '"
                + schema + "." + view + "'::regclass::oid::int4)");
    }

    public void unlockView(String schema, String view) {
        exec("SELECT pg_advisory_unlock(" + AdvisoryLocks.NAMESPACE + ", '"
                + schema + "." + view + "'::regclass::oid::int4)");
    }

    /** Throws the SQLSTATE of a failing statement, or null if it succeeded. */
    public String sqlStateOf(String sql) {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
            return null;
        } catch (SQLException e) {
            return e.getSQLState();
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
