package dev.matviews.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.util.List;

/** The generic schedules of the job system. */
@Command(name = "schedules", description = "Manage schedules of the job system.", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  matviews schedules list",
                "  matviews schedules create --name nightly --type materialized_view_refresh \\",
                "      --payload '{\"view_name\":\"leaderboard\"}' --cron '30 3 * * *' --tz Europe/Berlin",
                "  matviews schedules disable 5f0c9a4e-1c1f-4d8e-9a43-0f6f3f7c2b1a"})
class Schedules {

    private static final String PATH = "/api/admin/schedules";
    private static final List<Output.Column> COLUMNS = List.of(
            Output.Column.of("ID", "id"), Output.Column.of("NAME", "name"), Output.Column.of("TYPE", "jobType"),
            Output.Column.of("CRON", "cronExpr"), Output.Column.of("TZ", "timezone"),
            Output.Column.of("ENABLED", "enabled"), Output.Column.of("NEXT RUN", "nextRunAt"));

    @ParentCommand
    MatviewsCli parent;

    @Command(name = "list", description = "List schedules.")
    int list(@Mixin MatviewsCli.Formats format) {
        Output.list(parent.out(), format.format(), parent.client().get(PATH), COLUMNS, "No schedules.");
        return 0;
    }

    @Command(name = "show", description = "Show one schedule.")
    int show(@Parameters(paramLabel = "ID") String id) {
        Output.json(parent.out(), parent.client().get(PATH + "/" + id));
        return 0;
    }

    @Command(name = "create", description = "Create a schedule.")
    int create(@Option(names = "--name", required = true) String name,
               @Option(names = "--type", defaultValue = "materialized_view_refresh", description = "Job type (default ${DEFAULT-VALUE})") String type,
               @Option(names = "--payload", required = true, description = "JSON object, e.g. '{\"view_name\":\"leaderboard\"}'") String payload,
               @Option(names = "--cron", required = true) String cron,
               @Option(names = "--tz", defaultValue = "UTC") String tz,
               @Option(names = "--max-attempts") Integer maxAttempts,
               @Option(names = "--max-runtime", paramLabel = "MS") Integer maxRuntime,
               @Option(names = "--missed-run-policy", description = "run_once or skip") String policy,
               @Option(names = "--disabled", description = "Create it disabled") boolean disabled,
               @Mixin MatviewsCli.Formats format) {
        ObjectNode body = ApiClient.object().put("name", name).put("jobType", type).put("cronExpr", cron).put("timezone", tz)
                .put("enabled", !disabled);
        try {
            body.set("payload", ApiClient.JSON.readTree(payload));
        } catch (IOException e) {
            throw new ApiException(ApiException.USAGE, "--payload is not valid JSON");
        }
        if (maxAttempts != null) {
            body.put("maxAttempts", maxAttempts);
        }
        if (maxRuntime != null) {
            body.put("maxRuntimeMs", maxRuntime);
        }
        if (policy != null) {
            body.put("missedRunPolicy", policy);
        }
        JsonNode s = parent.client().post(PATH, body);
        if (format.json) {
            Output.json(parent.out(), s);
        } else {
            parent.out().println("Created schedule " + s.path("name").asText() + " (" + s.path("id").asText()
                    + "), next run " + Output.text(s.path("nextRunAt")));
        }
        return 0;
    }

    @Command(name = "delete", description = "Delete a schedule.")
    int delete(@Parameters(paramLabel = "ID") String id) {
        parent.client().delete(PATH + "/" + id);
        parent.out().println("Deleted schedule " + id);
        return 0;
    }

    @Command(name = "enable", description = "Enable a schedule.")
    int enable(@Parameters(paramLabel = "ID") String id) {
        JsonNode s = parent.client().post(PATH + "/" + id + "/enable", null);
        parent.out().println("Enabled schedule " + s.path("name").asText() + ", next run " + Output.text(s.path("nextRunAt")));
        return 0;
    }

    @Command(name = "disable", description = "Disable a schedule.")
    int disable(@Parameters(paramLabel = "ID") String id) {
        JsonNode s = parent.client().post(PATH + "/" + id + "/disable", null);
        parent.out().println("Disabled schedule " + s.path("name").asText());
        return 0;
    }
}
