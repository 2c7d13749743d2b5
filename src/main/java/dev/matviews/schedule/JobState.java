package dev.matviews.schedule;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matviews.db.DbEnum;

/** Where a job of the queue is. Completed, failed and canceled are final until a retry. */
public enum JobState implements DbEnum {
    QUEUED, RUNNING, COMPLETED, FAILED, CANCELED;

    @Override
    @JsonValue
    public String dbName() {
        return DbEnum.lowercase(this);
    }

    public static JobState parse(String value) {
        return DbEnum.parse(JobState.class, "state", value);
    }
}
