package dev.matviews.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The job queue behind schedules. */
@Command(name = "jobs", description = "Inspect and steer jobs.", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  matviews jobs list --state failed", "  matviews jobs retry 0d4f6a52-95a8-4a0e-b8c1-1d6e2f3a4b5c"})
class Jobs {

    private static final String PATH = "/api/admin/jobs";
    private static final List<Output.Column> COLUMNS = List.of(
            Output.Column.of("ID", "id"), Output.Column.of("TYPE", "type"), Output.Column.of("STATE", "state"),
            Output.Column.of("RUN AT", "runAt"), Output.Column.of("ATTEMPTS", "attempts"),
            new Output.Column("LAST ERROR", j -> MatviewsCli.truncate(Output.text(j.path("lastError")), 60)));

    @ParentCommand
    MatviewsCli parent;

    @Command(name = "list", description = "List jobs, newest first.")
    int list(@Option(names = "--type") String type,
             @Option(names = "--state", description = "queued, running, completed, failed or canceled") String state,
             @Option(names = "--schedule", paramLabel = "SCHEDULE_ID") String schedule,
             @Option(names = "--limit", defaultValue = "50") int limit,
             @Mixin MatviewsCli.Formats format) {
        StringBuilder query = new StringBuilder("?limit=").append(limit);
        param(query, "type", type);
        param(query, "state", state);
        param(query, "scheduleId", schedule);
        Output.list(parent.out(), format.format(), parent.client().get(PATH + query), COLUMNS, "No jobs.");
        return 0;
    }

    private static void param(StringBuilder query, String name, String value) {
        if (value != null) {
            query.append('&').append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }

    @Command(name = "show", description = "Show one job.")
    int show(@Parameters(paramLabel = "ID") String id) {
        Output.json(parent.out(), parent.client().get(PATH + "/" + id));
        return 0;
    }

    @Command(name = "retry", description = "Queue a failed or canceled job again.")
    int retry(@Parameters(paramLabel = "ID") String id) {
        JsonNode job = parent.client().post(PATH + "/" + id + "/retry", null);
        parent.out().println("Queued job " + job.path("id").asText() + " again");
        return 0;
    }

    @Command(name = "cancel", description = "Cancel a queued or running job.")
    int cancel(@Parameters(paramLabel = "ID") String id) {
        JsonNode job = parent.client().post(PATH + "/" + id + "/cancel", null);
        parent.out().println("Canceled".equals(job.path("state").asText()) || "canceled".equals(job.path("state").asText())
                ? "Canceled job " + job.path("id").asText()
                : "Cancellation requested for running job " + job.path("id").asText());
        return 0;
    }
}
