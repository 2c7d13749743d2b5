package dev.matviews.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Leaves out the two gauges Quarkus' Vert.x metrics register once per SQL connection.
 * <p>
 * quarkus-micrometer 3.33 (VertxClientMetrics) registers {@code postgresql.queue.size} and
 * {@code postgresql.current} (tags clientName, clientType=sql) for every new connection, under the
 * same meter id for all connections of the pool (and for the two LISTEN connections). Micrometer
 * keeps the first and ignores the rest: the gauges show one arbitrary connection, never the pool,
 * and the second connection logs "This Gauge has been already registered" as a WARN
 * (quarkusio/quarkus#47504). The pool's own gauges (sql.pool.queue.size, sql.pool.active,
 * sql.pool.idle, sql.pool.ratio) and the per-client timers and counters, which do add up across
 * connections, stay.
 */
@Singleton
public class SqlConnectionGauges {

    @Produces
    @Singleton
    MeterFilter perConnectionSqlGauges() {
        return MeterFilter.deny(id -> id.getType() == Meter.Type.GAUGE && "sql".equals(id.getTag("clientType")));
    }
}
