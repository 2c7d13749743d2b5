package dev.matviews.auth;

import dev.matviews.db.OwnSchema;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** SQL of the login throttle's shared budget (V13). */
@ApplicationScoped
public class LoginAttemptRepository {

    private final String table;
    private final String admit;

    public LoginAttemptRepository(OwnSchema schema) {
        this.table = schema.qualify("_matviews_login_attempts");
        this.admit = schema.qualify("_matviews_login_admit");
    }

    /** 0 if the attempt may go ahead (it is counted), else milliseconds to wait; at the database's clock if {@code at} is null. */
    public Uni<Long> admit(SqlClient client, String key, Instant at, int free, long maxBackoffMs, long decayMs, int tracked) {
        return client.preparedQuery("SELECT " + admit + "($1, coalesce($2, clock_timestamp()), $3, $4, $5, $6)")
                .execute(Tuple.tuple().addString(key)
                        .addOffsetDateTime(at == null ? null : OffsetDateTime.ofInstant(at, ZoneOffset.UTC))
                        .addInteger(free).addLong(maxBackoffMs).addLong(decayMs).addInteger(tracked))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    public Uni<Void> forget(SqlClient client, String key) {
        return client.preparedQuery("DELETE FROM " + table + " WHERE client = $1").execute(Tuple.of(key)).replaceWithVoid();
    }

    public Uni<Long> tracked(SqlClient client) {
        return client.query("SELECT count(*) FROM " + table).execute().map(rows -> rows.iterator().next().getLong(0));
    }
}
