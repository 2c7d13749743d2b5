package dev.matviews.freshness;

import dev.matviews.config.MatviewsConfig;
import dev.matviews.db.OwnSchema;
import dev.matviews.db.Channels;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** SQL of freshness targets: one keeper pass is one call of {@code _matviews_keep_targets} (migrations V16, V17). */
@ApplicationScoped
public class TargetRepository {

    private final String keep;
    private final MatviewsConfig.Targets config;
    private final int suspendAfter;

    public TargetRepository(OwnSchema schema, MatviewsConfig config) {
        this.config = config.targets();
        this.suspendAfter = config.suspension().afterFailures();
        this.keep = "SELECT registration_id, action, detail,"
                + " (extract(epoch FROM next_at - clock_timestamp()) * 1000)::bigint AS next_in_ms FROM "
                + schema.qualify("_matviews_keep_targets") + "($1, $2, $3, $4, $5, $6, $7)";
    }

    /**
     * What one pass did: whether it held the baton (else another replica's pass was running), views
     * queued for a refresh, targets found missed (with why), and in how long it has something to do
     * next (null: nothing, no target is set).
     */
    public record Pass(boolean held, List<UUID> queued, List<Missed> missed, Long nextInMs) {
    }

    public record Missed(UUID registrationId, String reason) {
    }

    /** One keeper pass in its own transaction; an empty pass when another replica's pass holds the baton. */
    public Uni<Pass> keep(SqlClient client) {
        Tuple args = Tuple.tuple().addInteger((int) config.margin().toMillis()).addDouble(config.marginShare())
                .addInteger((int) config.minCheckInterval().toMillis()).addInteger(config.batch())
                .addString(Channels.SCHEDULER).addInteger(suspendAfter)
                .addDouble(config.upstreamReuseShare());
        return client.preparedQuery(keep).execute(args).map(rows -> {
            List<UUID> queued = new ArrayList<>();
            List<Missed> missed = new ArrayList<>();
            Long next = null;
            boolean held = false;
            for (Row row : rows) {
                switch (row.getString("action")) {
                    case "queued" -> queued.add(row.getUUID("registration_id"));
                    case "missed" -> missed.add(new Missed(row.getUUID("registration_id"), row.getString("detail")));
                    default -> {
                        held = true;
                        next = row.getLong("next_in_ms");
                    }
                }
            }
            return new Pass(held, queued, missed, next);
        });
    }

}
