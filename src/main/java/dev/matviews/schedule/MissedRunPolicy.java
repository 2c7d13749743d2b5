package dev.matviews.schedule;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.db.DbEnum;

/** What a schedule does about due times that passed while every replica was down. */
public enum MissedRunPolicy implements DbEnum {
    /** Run once on recovery, however many due times passed. */
    RUN_ONCE,
    /** Skip to the next due time. */
    SKIP;

    @Override
    @JsonValue
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    public static MissedRunPolicy parse(String value) {
        return DbEnum.parse(MissedRunPolicy.class, "missedRunPolicy", value);
    }
}
