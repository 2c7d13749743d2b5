package dev.matviews.schedule;

import dev.matviews.registry.Registration;
import dev.matviews.registry.RegistrationDependents;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/**
 * An unregistered view's refresh schedules are deleted and its queued and running refresh jobs
 * canceled, so that no job registers it again later.
 */
@ApplicationScoped
public class ViewScheduleDependents implements RegistrationDependents {

    private final ScheduleRepository schedules;
    private final JobRepository jobs;

    public ViewScheduleDependents(ScheduleRepository schedules, JobRepository jobs) {
        this.schedules = schedules;
        this.jobs = jobs;
    }

    @Override
    public Uni<List<String>> removeFor(SqlClient tx, Registration r) {
        // Schedules first: deleting one waits for a firing in progress, whose job the next
        // statement then sees and cancels.
        return schedules.deleteForView(tx, r.schemaName(), r.viewName())
                .call(removed -> jobs.cancelForView(tx, r.schemaName(), r.viewName(), "canceled: the view was unregistered"));
    }
}
