package dev.matviews.cascade;

import dev.matviews.db.DbEnum;
import dev.matviews.problem.InvalidInputException;

import java.util.Arrays;

/** What a cascade node does when its view is being refreshed elsewhere, as `_matviews_cascades.on_busy` stores it. */
public enum OnBusy implements DbEnum {
    /** Wait for it (up to matviews.cascade.busy-wait), then refresh. */
    WAIT,
    /** Skip the node and what reads it. */
    SKIP;

    @Override
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    /** The constant named {@code value} (a request's or the configuration's). */
    static OnBusy parse(String value) {
        return Arrays.stream(values()).filter(o -> o.dbName().equals(value)).findFirst()
                .orElseThrow(() -> new InvalidInputException("onBusy must be wait or skip, got " + value));
    }
}
