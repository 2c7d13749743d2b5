package dev.matviews.devdb;

/**
 * Prepares the tests' freshly started embedded PostgreSQL before the service first connects, and
 * names the role the service connects as. Found with {@link java.util.ServiceLoader}: the tests
 * register one that builds a database an application already uses and a least-privileged role.
 * Dev mode never uses one and connects as the superuser.
 */
public interface EmbeddedPostgresSetup {

    /**
     * @param jdbcUrl   the new server's database, reachable as {@code superuser} without a password
     * @param superuser the server's superuser
     * @return the role the service connects as
     */
    Login prepare(String jdbcUrl, String superuser) throws Exception;

    record Login(String user, String password) {
    }
}
