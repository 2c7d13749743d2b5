package dev.matviews.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The matviews command line: a client of the admin REST API only. It never opens a database
 * connection, and it starts no framework, so a call costs a JVM start and an HTTP request.
 */
@Command(name = "matviews", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, versionProvider = MatviewsCli.Version.class,
        description = "Manage the materialized views a matviews service keeps fresh.",
        subcommandsRepeatable = false, usageHelpAutoWidth = true,
        subcommands = {Schedules.class, Jobs.class, AutoComplete.GenerateCompletion.class},
        footerHeading = "%nConfiguration:%n",
        footer = {"  The service URL and token come from --url/--token, else MATVIEWS_URL/MATVIEWS_TOKEN, else",
                "  ~/.config/matviews/config.properties, where matviews login keeps the URL it signed in to and a",
                "  token per URL (a token is only ever sent to the URL it was issued by); the URL defaults to",
                "  http://localhost:8080. A password or token is sent over plain http only to this machine",
                "  (localhost, 127.0.0.1, ::1), unless --insecure.",
                "%nExit codes: 0 ok, 1 server or refresh error, 2 usage error, 3 conflict (e.g. refresh already in",
                "  progress), 4 not found, 5 cannot reach the service or not authorised.",
                "%nExamples:",
                "  matviews list",
                "  matviews register --schema public --view leaderboard --mode concurrent",
                "  matviews refresh public.leaderboard",
                "  matviews refresh public.leaderboard --async --wait",
                "  matviews schedule public.leaderboard --cron '*/15 * * * *' --tz Europe/Berlin"})
public class MatviewsCli {

    static final String DEFAULT_URL = "http://localhost:8080";
    static final String MATVIEWS = "/api/admin/matviews";

    @Spec
    CommandSpec spec;

    @Option(names = "--url", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "Service URL (env MATVIEWS_URL; default " + DEFAULT_URL + ")")
    String url;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN",
            description = "Bearer token for the admin API; MATVIEWS_TOKEN keeps it out of the process list")
    String token;

    @Option(names = "--insecure", scope = ScopeType.INHERIT,
            description = "Send a password or token over plain http to a host other than this machine")
    boolean insecure;

    private final Map<String, String> env;
    private final Path configFile;
    private final InputStream stdin;

    MatviewsCli(Map<String, String> env, Path configFile, InputStream stdin) {
        this.env = env;
        this.configFile = configFile;
        this.stdin = stdin;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(execute(args, System.in, out, err, System.getenv(), defaultConfigFile(System.getenv())));
    }

    /** Runs one command line with nothing on standard input; returns the exit code. */
    static int execute(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env, Path configFile) {
        return execute(args, InputStream.nullInputStream(), out, err, env, configFile);
    }

    /** Runs one command line; returns the exit code. */
    static int execute(String[] args, InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env,
                       Path configFile) {
        CommandLine cli = new CommandLine(new MatviewsCli(env, configFile, in));
        cli.setOut(out).setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ApiException api) {
                commandLine.getErr().println(api.getMessage());
                return api.exitCode();
            }
            commandLine.getErr().println("Error: " + e.getMessage());
            return ApiException.ERROR;
        });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    static Path defaultConfigFile(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        Path dir = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return dir.resolve("matviews").resolve("config.properties");
    }

    ApiClient client() {
        Properties file = config();
        String u = url(file);
        String t = first(token, env.get("MATVIEWS_TOKEN"), keptToken(file, u), null);
        return new ApiClient(u, t, insecure);
    }

    private String url(Properties file) {
        return normalize(first(url, env.get("MATVIEWS_URL"), file.getProperty("url"), DEFAULT_URL));
    }

    /** One URL, one spelling: no trailing slash, scheme and host in lower case. */
    static String normalize(String url) {
        String u = url.trim();
        while (u.endsWith("/")) {
            u = u.substring(0, u.length() - 1);
        }
        try {
            java.net.URI uri = java.net.URI.create(u);
            if (uri.getScheme() != null && uri.getHost() != null) {
                return new java.net.URI(uri.getScheme().toLowerCase(java.util.Locale.ROOT), uri.getUserInfo(),
                        uri.getHost().toLowerCase(java.util.Locale.ROOT), uri.getPort(), uri.getPath(), null, null).toString();
            }
        } catch (IllegalArgumentException | java.net.URISyntaxException e) {
            // left as given: the request says what is wrong with it
        }
        return u;
    }

    /** Where login keeps the token of a service: one entry per URL, so a token only goes where it came from. */
    private static String tokenKey(String url) {
        return "token." + url;
    }

    /**
     * The token kept for {@code url}. Files written before tokens were kept per URL hold one
     * {@code token=}, which belongs to the file's {@code url=} (or the default URL) only.
     */
    private static String keptToken(Properties file, String url) {
        String kept = file.getProperty(tokenKey(url));
        if (kept == null && file.getProperty("token") != null
                && normalize(first(file.getProperty("url"), DEFAULT_URL)).equals(url)) {
            kept = file.getProperty("token");
        }
        return kept;
    }

    private Properties config() {
        Properties file = new Properties();
        if (configFile != null && Files.isReadable(configFile)) {
            try (InputStream in = Files.newInputStream(configFile)) {
                file.load(in);
            } catch (IOException e) {
                throw new ApiException(ApiException.USAGE, "Cannot read " + configFile + ": " + e.getMessage());
            }
        }
        return file;
    }

    /** Writes the config file readable by its owner only: it holds a token. */
    private void saveConfig(Properties file) {
        try {
            Files.createDirectories(configFile.toAbsolutePath().getParent());
            boolean posix = configFile.getFileSystem().supportedFileAttributeViews().contains("posix");
            java.util.Set<java.nio.file.attribute.PosixFilePermission> ownerOnly =
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");
            if (!Files.exists(configFile) && posix) {
                Files.createFile(configFile, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(ownerOnly));
            } else if (posix) {
                Files.setPosixFilePermissions(configFile, ownerOnly);
            }
            try (java.io.OutputStream out = Files.newOutputStream(configFile)) {
                file.store(out, "matviews CLI settings; matviews login keeps the token here, matviews logout removes it");
            }
        } catch (IOException e) {
            throw new ApiException(ApiException.ERROR, "Cannot write " + configFile + ": " + e.getMessage());
        }
    }

    private static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    static final List<Output.Column> REGISTRATION_COLUMNS = List.of(
            Output.Column.of("ID", "id"), Output.Column.of("SCHEMA", "schemaName"), Output.Column.of("VIEW", "viewName"),
            Output.Column.of("MODE", "refreshMode"), Output.Column.of("LAST REFRESH", "lastRefreshAt"),
            new Output.Column("STATUS", r -> (r.path("currentRunId").isTextual() ? "running"
                    : Output.text(r.path("lastRefreshStatus"))) + (r.path("suspended").asBoolean() ? " (suspended)" : "")),
            Output.Column.of("TARGET", "targetLag"),
            new Output.Column("LAG S", r -> r.path("lagSeconds").isNumber()
                    ? String.format(java.util.Locale.ROOT, "%.1f", r.path("lagSeconds").asDouble()) : ""));

    static final List<Output.Column> RUN_COLUMNS = List.of(
            Output.Column.of("RUN", "id"), Output.Column.of("STARTED", "startedAt"), Output.Column.of("TRIGGER", "trigger"),
            Output.Column.of("STATUS", "status"), Output.Column.of("DURATION MS", "durationMs"),
            new Output.Column("ERROR", r -> truncate(Output.text(r.path("error")), 80)));

    static String truncate(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }

    static String name(JsonNode registration) {
        return registration.path("schemaName").asText() + "." + registration.path("viewName").asText();
    }

    @Command(name = "login", description = "Sign in with the built-in admin or viewer password; the token is kept in the"
            + " config file, readable by you only, for the commands that follow.",
            footerHeading = "%nExamples:%n", footer = {"  matviews login", "  matviews login --url https://matviews.example.com",
            "  printf '%s' \"$MATVIEWS_PASSWORD\" | matviews login --password-stdin"})
    int login(@Option(names = "--password-stdin", description = "Read the password from standard input (scripts);"
            + " otherwise it is asked for without echo") boolean fromStdin) throws IOException {
        if (configFile == null) {
            throw new ApiException(ApiException.USAGE, "No config file to keep the token in");
        }
        Properties file = config();
        String u = url(file);
        // refused before a password is asked for, if it could not be sent safely
        ApiClient login = ApiClient.forLogin(u, insecure);
        String password;
        java.io.Console console = System.console();
        if (!fromStdin && console != null) {
            char[] typed = console.readPassword("Password: ");
            password = typed == null ? null : new String(typed);
        } else {
            password = new java.io.BufferedReader(new java.io.InputStreamReader(stdin,
                    java.nio.charset.StandardCharsets.UTF_8)).readLine();
        }
        if (password == null || password.isEmpty()) {
            throw new ApiException(ApiException.USAGE, "No password given");
        }
        // No token on the login itself: a stale one must not stand in the way of a new one.
        JsonNode answer = login.post("/api/admin/auth", ApiClient.object().put("password", password));
        if (file.getProperty("token") != null) {
            // the single token of earlier files goes to the entry of its URL
            file.setProperty(tokenKey(normalize(first(file.getProperty("url"), DEFAULT_URL))), file.getProperty("token"));
            file.remove("token");
        }
        file.setProperty(tokenKey(u), answer.path("token").asText());
        // the service signed in to is the one later commands talk to, with this token
        file.setProperty("url", u);
        saveConfig(file);
        out().println("Signed in as " + answer.path("role").asText() + " until " + answer.path("expiresAt").asText()
                + " at " + u + "; the token is kept in " + configFile);
        if (env.get("MATVIEWS_TOKEN") != null && !env.get("MATVIEWS_TOKEN").isBlank()) {
            err().println("Note: MATVIEWS_TOKEN is set and is used before the kept token");
        }
        return 0;
    }

    @Command(name = "logout", description = "Forget the token that matviews login kept.",
            footerHeading = "%nExamples:%n", footer = {"  matviews logout"})
    int logout() {
        Properties file = config();
        String u = url(file);
        if (configFile == null || keptToken(file, u) == null) {
            out().println("Not signed in to " + u + ": no token kept" + (configFile == null ? "" : " in " + configFile));
            return 0;
        }
        file.remove(tokenKey(u));
        if (file.getProperty("token") != null && keptToken(file, u) != null) {
            file.remove("token");
        }
        saveConfig(file);
        out().println("Signed out of " + u + ": its token is removed from " + configFile);
        return 0;
    }

    @Command(name = "list", description = "List registered materialized views.",
            footerHeading = "%nExamples:%n", footer = {"  matviews list", "  matviews list --json | jq '.[].viewName'", "  matviews list --csv > views.csv"})
    int list(@Mixin Formats format) {
        Output.list(out(), format.format(), client().get(MATVIEWS).path("items"), REGISTRATION_COLUMNS,
                "No materialized views registered.");
        return 0;
    }

    static final List<Output.Column> CATALOG_COLUMNS = List.of(
            Output.Column.of("SCHEMA", "schemaName"), Output.Column.of("VIEW", "viewName"),
            Output.Column.of("OWNER", "owner"),
            new Output.Column("REFRESH", v -> v.path("canRefresh").asBoolean() ? "yes"
                    : "no (needs " + Output.text(v.path("missingPrivilege")) + ")"),
            new Output.Column("CONCURRENT", v -> v.path("concurrentEligible").asBoolean() ? "yes"
                    : "no: " + truncate(Output.text(v.path("concurrentIneligibleReason")), 60)),
            Output.Column.of("ROWS", "rowEstimate"), Output.Column.of("BYTES", "sizeBytes"),
            Output.Column.of("REGISTRATION", "registrationId"));

    @Command(name = "catalog", description = "List every materialized view of the database, registered or not.",
            footerHeading = "%nExamples:%n", footer = {"  matviews catalog", "  matviews catalog --schema sales --unregistered",
            "  matviews catalog --json | jq '.[] | select(.concurrentEligible | not) | .concurrentIneligibleReason'"})
    int catalog(@Option(names = "--schema", description = "Only this schema") String schema,
                @Option(names = "--registered", description = "Only registered views") boolean registered,
                @Option(names = "--unregistered", description = "Only views not registered yet") boolean unregistered,
                @Mixin Formats format) {
        if (registered && unregistered) {
            throw new ApiException(ApiException.USAGE, "Give --registered or --unregistered, not both");
        }
        StringBuilder query = new StringBuilder("?limit=1000");
        if (schema != null) {
            query.append("&schema=").append(java.net.URLEncoder.encode(schema, java.nio.charset.StandardCharsets.UTF_8));
        }
        if (registered || unregistered) {
            query.append("&registered=").append(registered);
        }
        ApiClient api = client();
        com.fasterxml.jackson.databind.node.ArrayNode all = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        String cursor = null;
        do {
            JsonNode page = api.get("/api/admin/catalog/matviews" + query
                    + (cursor == null ? "" : "&cursor=" + cursor));
            page.path("items").forEach(all::add);
            cursor = page.path("nextCursor").isTextual() ? page.path("nextCursor").asText() : null;
        } while (cursor != null);
        Output.list(out(), format.format(), all, CATALOG_COLUMNS, "No materialized views in the database.");
        return 0;
    }

    @Command(name = "graph", description = "Show which relations each materialized view reads: of one registered view"
            + " (upstream and downstream, any depth) or of the whole database.",
            footerHeading = "%nExamples:%n", footer = {"  matviews graph", "  matviews graph public.leaderboard",
            "  matviews graph --dot | dot -Tsvg > graph.svg"})
    int graph(@Parameters(paramLabel = "REF", arity = "0..1", description = "Registration id or schema.view") String ref,
              @Option(names = "--dot", description = "Graphviz source") boolean dot,
              @Mixin Formats format) {
        ApiClient api = client();
        String path = ref == null ? "/api/admin/graph" : MATVIEWS + "/" + api.resolve(ref) + "/graph";
        if (dot) {
            out().print(api.getText(path + "?format=dot", "text/vnd.graphviz"));
            return 0;
        }
        JsonNode graph = api.get(path);
        if (format.json) {
            Output.json(out(), graph);
            return 0;
        }
        // One row per node with what it reads: edges grouped by their reader.
        Map<String, List<String>> reads = new java.util.LinkedHashMap<>();
        graph.path("edges").forEach(e -> reads.computeIfAbsent(e.path("to").asText(), k -> new java.util.ArrayList<>())
                .add(e.path("from").asText()));
        List<Output.Column> columns = List.of(Output.Column.of("NODE", "id"), Output.Column.of("KIND", "kind"),
                Output.Column.of("REGISTRATION", "registrationId"),
                new Output.Column("READS", n -> String.join(" ", reads.getOrDefault(n.path("id").asText(), List.of()))));
        Output.list(out(), format.format(), graph.path("nodes"), columns, "No materialized views in the database.");
        return 0;
    }

    @Command(name = "show", description = "Show one registration (id or schema.view).",
            footerHeading = "%nExamples:%n", footer = {"  matviews show public.leaderboard", "  matviews show public.leaderboard --json"})
    int show(@Parameters(paramLabel = "REF", description = "Registration id or schema.view") String ref,
             @Mixin Formats format) {
        ApiClient api = client();
        JsonNode r = api.get(MATVIEWS + "/" + api.resolve(ref));
        if (format.json) {
            Output.json(out(), r);
        } else {
            r.fields().forEachRemaining(field -> out().printf("%-22s %s%n", field.getKey(),
                    field.getValue().isContainerNode() ? field.getValue().toString() : Output.text(field.getValue())));
        }
        return 0;
    }

    @Command(name = "register", description = "Register a materialized view of the database.",
            footerHeading = "%nExamples:%n", footer = {"  matviews register --view leaderboard", "  matviews register --schema sales --view daily_totals --mode concurrent --lock-timeout 5000",
                    "  matviews register --schema reporting --view branch_totals --mode incremental --definition 'SELECT bid, count(*) AS n FROM public.pgbench_accounts GROUP BY bid'"})
    int register(@Option(names = "--schema", defaultValue = "public", description = "Schema (default: ${DEFAULT-VALUE})") String schema,
                 @Option(names = "--view", required = true, description = "Materialized view name") String view,
                 @Option(names = "--mode", defaultValue = "auto", description = "auto (concurrent once the view is populated and has a usable unique index, else standard), standard, concurrent, or incremental with --definition (default: ${DEFAULT-VALUE}; incremental with --definition)") String mode,
                 @Option(names = "--definition", paramLabel = "SQL", description = "An incremental view: matviews creates --view as a table kept equal to this SELECT (- reads it from standard input; matviews explain says whether it can be)") String definition,
                 @Option(names = "--statement-timeout", paramLabel = "MS", description = "statement_timeout of its refreshes, ms (0: none)") Integer statementTimeout,
                 @Option(names = "--lock-timeout", paramLabel = "MS", description = "lock_timeout of its refreshes, ms (0: none)") Integer lockTimeout,
                 @Option(names = "--skip-unchanged", description = "Skip a refresh when no table the view reads has changed"
                         + " since its last successful refresh (needs change tracking: matviews track)") boolean skipUnchanged,
                 @Option(names = "--max-skip-age", paramLabel = "SECONDS", description = "With --skip-unchanged: refresh"
                         + " anyway once the last successful refresh began this long ago") Integer maxSkipAge,
                 @Option(names = "--target-lag", paramLabel = "LAG", description = "Keep the view at most this far behind"
                         + " its tables (5m, 90s, PT1H) or downstream (as fresh as a view reading it with a target needs)")
                 String targetLag,
                 @Mixin Formats format) {
        ObjectNode body = ApiClient.object().put("schema", schema).put("viewName", view)
                .put("refreshMode", definition != null && "auto".equals(mode) ? "incremental" : mode);
        if (definition != null) {
            body.put("definition", "-".equals(definition) ? readStdin() : definition);
        }
        if (statementTimeout != null) {
            body.put("statementTimeoutMs", statementTimeout);
        }
        if (lockTimeout != null) {
            body.put("lockTimeoutMs", lockTimeout);
        }
        if (skipUnchanged) {
            body.put("skipUnchanged", true);
        }
        if (maxSkipAge != null) {
            body.put("maxSkipAgeSeconds", maxSkipAge);
        }
        if (targetLag != null) {
            body.put("targetLag", targetLag);
        }
        ApiClient api = client();
        JsonNode r = api.post(MATVIEWS, body);
        if (format.json) {
            Output.json(out(), r);
        } else {
            out().println("Registered " + name(r) + " (" + r.path("refreshMode").asText() + ") with id " + r.path("id").asText()
                    + (r.path("targetLag").isTextual() ? ", target lag " + r.path("targetLag").asText() : ""));
            if (skipUnchanged) {
                skipHint(api, r);
            }
        }
        return 0;
    }

    /** Says why a skipUnchanged registration's refreshes would not be skipped yet, if they would not. */
    private void skipHint(ApiClient api, JsonNode registration) {
        JsonNode never = api.get(MATVIEWS + "/" + registration.path("id").asText() + "/change-tracking").path("neverSkipped");
        if (never.isTextual()) {
            out().println("Its refreshes are not skipped yet: " + never.asText()
                    + " (matviews track " + name(registration) + " installs change tracking)");
        }
    }

    @Command(name = "update", description = "Change a registration's mode, timeouts, skipping or freshness target.",
            footerHeading = "%nExamples:%n", footer = {"  matviews update public.leaderboard --mode concurrent",
            "  matviews update public.leaderboard --target-lag 5m", "  matviews update public.leaderboard --statement-timeout 600000 --lock-timeout -1"})
    int update(@Parameters(paramLabel = "REF") String ref,
               @Option(names = "--mode", description = "auto, standard or concurrent") String mode,
               @Option(names = "--statement-timeout", paramLabel = "MS", description = "ms, 0: none, -1: service default") Integer statementTimeout,
               @Option(names = "--lock-timeout", paramLabel = "MS", description = "ms, 0: none, -1: service default") Integer lockTimeout,
               @Option(names = "--skip-unchanged", arity = "1", paramLabel = "true|false",
                       description = "Skip refreshes when nothing the view reads changed") Boolean skipUnchanged,
               @Option(names = "--max-skip-age", paramLabel = "SECONDS", description = "Refresh anyway once the last"
                       + " successful refresh began this long ago (0: no limit)") Integer maxSkipAge,
               @Option(names = "--target-lag", paramLabel = "LAG", description = "Freshness target: 5m, 90s, PT1H,"
                       + " downstream, or none to remove it") String targetLag,
               @Mixin Formats format) {
        ObjectNode body = ApiClient.object();
        if (mode != null) {
            body.put("refreshMode", mode);
        }
        timeout(body, "statementTimeoutMs", statementTimeout);
        timeout(body, "lockTimeoutMs", lockTimeout);
        if (skipUnchanged != null) {
            body.put("skipUnchanged", skipUnchanged);
        }
        if (maxSkipAge != null) {
            if (maxSkipAge == 0) {
                body.putNull("maxSkipAgeSeconds");
            } else {
                body.put("maxSkipAgeSeconds", maxSkipAge);
            }
        }
        if (targetLag != null) {
            if (targetLag.equalsIgnoreCase("none")) {
                body.putNull("targetLag");
            } else {
                body.put("targetLag", targetLag);
            }
        }
        if (body.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine().getSubcommands().get("update"),
                    "Give at least one of --mode, --statement-timeout, --lock-timeout, --skip-unchanged, --max-skip-age,"
                    + " --target-lag");
        }
        ApiClient api = client();
        JsonNode r = api.put(MATVIEWS + "/" + api.resolve(ref), body);
        if (format.json) {
            Output.json(out(), r);
        } else {
            out().println("Updated " + name(r) + ": mode " + r.path("refreshMode").asText()
                    + ", statement timeout " + orDefault(r.path("statementTimeoutMs"))
                    + ", lock timeout " + orDefault(r.path("lockTimeoutMs"))
                    + (r.path("skipUnchanged").asBoolean() ? ", skips unchanged" + (r.path("maxSkipAgeSeconds").isNumber()
                    ? " for up to " + r.path("maxSkipAgeSeconds").asText() + " s" : "") : "")
                    + ", target lag " + (r.path("targetLag").isTextual() ? r.path("targetLag").asText() : "none"));
            if (Boolean.TRUE.equals(skipUnchanged)) {
                skipHint(api, r);
            }
        }
        return 0;
    }

    private static void timeout(ObjectNode body, String field, Integer value) {
        if (value == null) {
            return;
        }
        if (value < 0) {
            body.putNull(field);
        } else {
            body.put(field, value);
        }
    }

    private static String orDefault(JsonNode ms) {
        return ms.isNull() ? "default" : ms.asText() + " ms";
    }

    @Command(name = "unregister", description = "Unregister a view (the view itself stays; its schedules go).",
            footerHeading = "%nExamples:%n", footer = {"  matviews unregister public.leaderboard"})
    int unregister(@Parameters(paramLabel = "REF") String ref,
                   @Option(names = "--drop", description = "Also drop an incremental view's table") boolean drop) {
        ApiClient api = client();
        String id = api.resolve(ref);
        JsonNode removed = api.delete(MATVIEWS + "/" + id + (drop ? "?drop=true" : "")).path("removedSchedules");
        out().println("Unregistered " + ref + (drop ? " and dropped its table" : "") + (removed.isArray() && !removed.isEmpty()
                ? " and deleted its schedules " + removed : ""));
        return 0;
    }

    private static String readStdin() {
        try {
            return new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Command(name = "refresh", description = "Refresh a view now and wait for its end (the refresh is started"
            + " asynchronously and followed, so no proxy's timeout can cut it).",
            footerHeading = "%nExamples:%n", footer = {"  matviews refresh public.leaderboard", "  matviews refresh 5f0c9a4e-1c1f-4d8e-9a43-0f6f3f7c2b1a --json", "  matviews refresh sales.daily_totals --async --wait"})
    int refresh(@Parameters(paramLabel = "REF") String ref,
                @Option(names = "--async", description = "Return as soon as the refresh started") boolean async,
                @Option(names = "--wait", description = "With --async: follow the run until it ends") boolean wait,
                @Option(names = "--cascade", paramLabel = "downstream|upstream",
                        description = "Also refresh the registered views that read it (downstream) or that it reads"
                                + " (upstream), in graph order") String cascade,
                @Option(names = "--parallelism", description = "With --cascade: views refreshed at once") Integer parallelism,
                @Mixin Formats format) throws InterruptedException {
        ApiClient api = client();
        String id = api.resolve(ref);
        if (cascade != null) {
            return cascade(api, MATVIEWS + "/" + id + "/refresh?cascade="
                    + java.net.URLEncoder.encode(cascade, java.nio.charset.StandardCharsets.UTF_8), parallelism, format);
        }
        // Started asynchronously and followed, also without --async: no request stays open for
        // the length of a REFRESH, so no proxy's idle timeout can cut it (which would cancel it).
        JsonNode run = api.post(MATVIEWS + "/" + id + "/refresh?async=true", null);
        String runId = run.path("id").asText();
        if (!async) {
            run = followRun(api, run, false);
            String status = run.path("status").asText();
            if (!"success".equals(status) && !"skipped".equals(status)) {
                return printOutcome(run, format);
            }
            if (format.json) {
                // the synchronous route's answer, as before
                com.fasterxml.jackson.databind.node.ObjectNode result = ApiClient.object();
                result.set("registration", api.get(MATVIEWS + "/" + id));
                result.put("durationMs", run.path("durationMs").asLong());
                result.put("runId", runId);
                result.set("skipped", "skipped".equals(status) ? run.path("error") : null);
                Output.json(out(), result);
            } else if ("skipped".equals(status)) {
                out().println("Skipped refresh of " + name(run) + ": " + why(run.path("error")));
            } else {
                out().println("Refreshed " + name(run) + " in " + run.path("durationMs").asText() + " ms");
            }
            return 0;
        }
        if (!wait) {
            if (format.json) {
                Output.json(out(), run);
            } else {
                out().println("Started refresh of " + name(run) + ": run " + runId);
            }
            return 0;
        }
        return printOutcome(followRun(api, run, true), format);
    }

    /** Asks for the run until it ended (every 250 ms, then less often); with {@code progress}, a line on stderr. */
    private JsonNode followRun(ApiClient api, JsonNode run, boolean progress) throws InterruptedException {
        long started = System.nanoTime();
        long pause = 100;
        while ("running".equals(run.path("status").asText())) {
            if (progress) {
                err().printf("\rRefreshing %s… %.1f s", name(run), (System.nanoTime() - started) / 1e9);
                err().flush();
            }
            Thread.sleep(pause);
            pause = Math.min(1000, pause + 150);
            run = api.get("/api/admin/matview-runs/" + run.path("id").asText());
        }
        if (progress) {
            err().println();
        }
        return run;
    }

    @Command(name = "refresh-all", description = "Refresh every registered view in the order of the dependency graph.",
            footerHeading = "%nExamples:%n", footer = {"  matviews refresh-all", "  matviews refresh-all --parallelism 8 --json",
                    "  matviews refresh-all --schema reporting"})
    int refreshAll(@Option(names = "--parallelism", description = "Views refreshed at once") Integer parallelism,
                   @Option(names = "--schema", description = "Only the registered views of this schema") String schema,
                   @Mixin Formats format) {
        String path = MATVIEWS + "/refresh-all?" + (schema == null ? ""
                : "schema=" + java.net.URLEncoder.encode(schema, java.nio.charset.StandardCharsets.UTF_8));
        return cascade(client(), path, parallelism, format);
    }

    static final List<Output.Column> CASCADE_COLUMNS = List.of(
            new Output.Column("VIEW", n -> n.path("schemaName").asText() + "." + n.path("viewName").asText()),
            Output.Column.of("STATUS", "status"), Output.Column.of("STARTED", "startedAt"),
            Output.Column.of("FINISHED", "finishedAt"), new Output.Column("ERROR", n -> truncate(Output.text(n.path("error")), 80)));

    /** Runs a cascade to its end; exit 0 if every node succeeded, 1 otherwise. */
    private int cascade(ApiClient api, String path, Integer parallelism, Formats format) {
        // Started asynchronously and followed, like a single refresh: no request outlives a proxy's timeout.
        String query = (parallelism == null ? "" : "parallelism=" + parallelism + "&") + "async=true";
        JsonNode cascade = api.post(path + (path.endsWith("?") ? "" : path.contains("?") ? "&" : "?") + query, null);
        long pause = 100;
        while ("running".equals(cascade.path("status").asText())) {
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException(ApiException.ERROR, "Interrupted while cascade " + cascade.path("id").asText()
                        + " runs; it goes on (POST /api/admin/cascades/" + cascade.path("id").asText() + "/cancel stops it)");
            }
            pause = Math.min(1000, pause + 150);
            cascade = api.get("/api/admin/cascades/" + cascade.path("id").asText());
        }
        if (format.json) {
            Output.json(out(), cascade);
        } else {
            Output.list(out(), format.format(), cascade.path("nodes"), CASCADE_COLUMNS, "No registered views to refresh.");
            out().println("Cascade " + cascade.path("id").asText() + " " + cascade.path("status").asText());
        }
        return "success".equals(cascade.path("status").asText()) ? 0 : ApiException.ERROR;
    }

    /** A skip's reason without the "skipped: " its run's error starts with. */
    private static String why(JsonNode skipped) {
        String text = Output.text(skipped);
        return text.startsWith("skipped: ") ? text.substring("skipped: ".length()) : text;
    }

    private int printOutcome(JsonNode run, Formats format) {
        String status = run.path("status").asText();
        if (format.json) {
            Output.json(out(), run);
        } else if ("success".equals(status)) {
            out().println("Refreshed " + name(run) + " in " + run.path("durationMs").asText() + " ms (run " + run.path("id").asText() + ")");
        } else if ("skipped".equals(status)) {
            out().println("Skipped refresh of " + name(run) + ": " + why(run.path("error")) + " (run " + run.path("id").asText() + ")");
        } else {
            err().println("Refresh of " + name(run) + " ended " + status + ": " + Output.text(run.path("error")));
        }
        return "success".equals(status) || "skipped".equals(status) ? 0 : ApiException.ERROR;
    }

    @Command(name = "tracking", description = "Show whether a view's refreshes can be skipped when nothing changed:"
            + " the tables it reads, their change tracking, and what its next refresh would do.",
            footerHeading = "%nExamples:%n", footer = {"  matviews tracking public.leaderboard", "  matviews tracking public.leaderboard --json"})
    int tracking(@Parameters(paramLabel = "REF") String ref, @Mixin Formats format) {
        ApiClient api = client();
        return printTracking(api.get(MATVIEWS + "/" + api.resolve(ref) + "/change-tracking"), format);
    }

    @Command(name = "track", description = "Install change tracking on every table a view reads (a statement-level"
            + " trigger each; the role must own them), so that its skipUnchanged refreshes can be skipped.",
            footerHeading = "%nExamples:%n", footer = {"  matviews track public.leaderboard"})
    int track(@Parameters(paramLabel = "REF") String ref, @Mixin Formats format) {
        ApiClient api = client();
        return printTracking(api.post(MATVIEWS + "/" + api.resolve(ref) + "/change-tracking", null), format);
    }

    @Command(name = "untrack", description = "Remove a view's change tracking (triggers no other view needs are dropped);"
            + " its refreshes are no longer skipped.",
            footerHeading = "%nExamples:%n", footer = {"  matviews untrack public.leaderboard"})
    int untrack(@Parameters(paramLabel = "REF") String ref, @Mixin Formats format) {
        ApiClient api = client();
        return printTracking(api.delete(MATVIEWS + "/" + api.resolve(ref) + "/change-tracking"), format);
    }

    static final List<Output.Column> TRACKED_TABLE_COLUMNS = List.of(Output.Column.of("TABLE", "table"),
            new Output.Column("TRACKED", t -> t.path("tracked").asBoolean() ? "yes" : "no"));

    private int printTracking(JsonNode tracking, Formats format) {
        if (format.json) {
            Output.json(out(), tracking);
            return 0;
        }
        if (format.csv) {
            Output.list(out(), Output.Format.CSV, tracking.path("tables"), TRACKED_TABLE_COLUMNS, "");
            return 0;
        }
        Output.list(out(), Output.Format.TABLE, tracking.path("tables"), TRACKED_TABLE_COLUMNS, "It reads no table.");
        if (!tracking.path("materializedViews").isEmpty()) {
            List<String> views = new java.util.ArrayList<>();
            tracking.path("materializedViews").forEach(v -> views.add(v.asText()));
            out().println("Materialized views it reads: " + String.join(", ", views));
        }
        out().println("skipUnchanged: " + (tracking.path("skipUnchanged").asBoolean() ? "on" : "off"));
        if (tracking.path("neverSkipped").isTextual()) {
            out().println("Never skipped: " + tracking.path("neverSkipped").asText());
        }
        out().println("Next refresh: " + (tracking.path("nextRefresh").isTextual()
                ? "refreshes (" + tracking.path("nextRefresh").asText() + ")" : "would be skipped"));
        return 0;
    }

    @Command(name = "runs", description = "Refresh history of a view, newest first.",
            footerHeading = "%nExamples:%n", footer = {"  matviews runs public.leaderboard", "  matviews runs public.leaderboard --status error --limit 5 --csv"})
    int runs(@Parameters(paramLabel = "REF") String ref,
             @Option(names = "--status", description = "Only runs with this status") String status,
             @Option(names = "--limit", defaultValue = "20", description = "How many (1-200, default ${DEFAULT-VALUE})") int limit,
             @Mixin Formats format) {
        ApiClient api = client();
        String query = "?limit=" + limit + (status == null ? "" : "&status=" + java.net.URLEncoder.encode(status,
                java.nio.charset.StandardCharsets.UTF_8));
        JsonNode page = api.get(MATVIEWS + "/" + api.resolve(ref) + "/runs" + query);
        Output.list(out(), format.format(), page.path("items"), RUN_COLUMNS, "No runs.");
        return 0;
    }

    @Command(name = "cancel", description = "Cancel a running refresh, whichever replica runs it.",
            footerHeading = "%nExamples:%n", footer = {"  matviews cancel 0d4f6a52-95a8-4a0e-b8c1-1d6e2f3a4b5c"})
    int cancel(@Parameters(paramLabel = "RUN_ID") String runId) {
        JsonNode run = client().post("/api/admin/matview-runs/" + runId + "/cancel", null);
        out().println("Cancellation requested for run " + run.path("id").asText() + " of " + name(run));
        return 0;
    }

    @Command(name = "resume", description = "Resume a suspended view: scheduled and target-driven refreshes run again"
            + " for it and for the views suspended because of it.",
            footerHeading = "%nExamples:%n", footer = {"  matviews resume public.leaderboard",
            "  matviews list --json | jq -r '.[] | select(.suspended) | .id' | xargs -n1 matviews resume"})
    int resume(@Parameters(paramLabel = "REF", description = "Registration id or schema.view") String ref,
               @Mixin Formats format) {
        ApiClient api = client();
        String id = api.resolve(ref);
        boolean wasSuspended = api.get(MATVIEWS + "/" + id).path("suspended").asBoolean();
        JsonNode r = api.post(MATVIEWS + "/" + id + "/resume", null);
        if (format.json) {
            Output.json(out(), r);
        } else {
            out().println(wasSuspended ? "Resumed " + name(r) + " and the views suspended because of it"
                    : name(r) + " was not suspended");
        }
        return 0;
    }

    @Command(name = "explain", description = "Say whether a view definition can be maintained incrementally, and if"
            + " not, every construct that prevents it. The service has PostgreSQL parse it; nothing it names runs.",
            footerHeading = "%nExamples:%n", footer = {
                    "  matviews explain 'SELECT bid, count(*) AS n, sum(abalance) AS total FROM public.pgbench_accounts GROUP BY bid'",
                    "  matviews explain - < view.sql"})
    int explain(@Parameters(paramLabel = "DEFINITION", description = "The SELECT query, or - to read it from standard input")
                String definition,
                @Mixin Formats format) throws java.io.IOException {
        String query = "-".equals(definition) ? readStdin() : definition;
        JsonNode e = client().post(MATVIEWS + "/explain", ApiClient.object().put("definition", query));
        if (format.json) {
            Output.json(out(), e);
            return 0;
        }
        boolean eligible = e.path("incrementalEligible").asBoolean();
        out().println(eligible ? "Can be maintained incrementally." : "Cannot be maintained incrementally:");
        e.path("reasons").forEach(r -> out().println("  - " + r.asText()));
        List<String> sources = new ArrayList<>();
        e.path("sources").forEach(t -> sources.add(t.asText()));
        List<String> columns = new ArrayList<>();
        e.path("columns").forEach(c -> columns.add(c.asText()));
        out().println("Columns: " + String.join(", ", columns));
        out().println("Reads:   " + (sources.isEmpty() ? "no table" : String.join(", ", sources)));
        return 0;
    }

    @Command(name = "schedule", description = "Refresh a view on a schedule (creates or replaces it).",
            footerHeading = "%nExamples:%n", footer = {"  matviews schedule public.leaderboard --cron '*/15 * * * *'", "  matviews schedule sales.daily_totals --cron '30 3 * * *' --tz Europe/Berlin", "  matviews schedule public.hot --cron '@every 30s'"})
    int schedule(@Parameters(paramLabel = "REF") String ref,
                 @Option(names = "--cron", required = true, description = "5 or 6 field cron, @hourly, @daily, @every 10m, ...") String cron,
                 @Option(names = "--tz", defaultValue = "UTC", description = "IANA time zone (default ${DEFAULT-VALUE})") String tz,
                 @Mixin Formats format) {
        ApiClient api = client();
        JsonNode s = api.put(MATVIEWS + "/" + api.resolve(ref) + "/schedule",
                ApiClient.object().put("cronExpr", cron).put("timezone", tz));
        if (format.json) {
            Output.json(out(), s);
        } else {
            out().println("Scheduled " + ref + " '" + s.path("cronExpr").asText() + "' (" + s.path("timezone").asText()
                    + "), next run " + Output.text(s.path("nextRunAt")));
        }
        return 0;
    }

    @Command(name = "unschedule", description = "Remove a view's refresh schedule.",
            footerHeading = "%nExamples:%n", footer = {"  matviews unschedule public.leaderboard"})
    int unschedule(@Parameters(paramLabel = "REF") String ref) {
        ApiClient api = client();
        api.delete(MATVIEWS + "/" + api.resolve(ref) + "/schedule");
        out().println("Unscheduled " + ref);
        return 0;
    }

    @Command(name = "events", description = "Follow live run and cascade events until interrupted (or --count events).",
            footerHeading = "%nExamples:%n", footer = {"  matviews events", "  matviews events --json --count 10"})
    int events(@Option(names = "--count", paramLabel = "N", description = "Stop after N events") Integer count,
               @Mixin Formats format) {
        int[] seen = {0};
        client().follow(MATVIEWS + "/events", event -> {
            if (format.json) {
                out().println(event[1]);
            } else {
                try {
                    JsonNode run = ApiClient.JSON.readTree(event[1]);
                    String when = Output.text(run.path("finishedAt").isNull() ? run.path("startedAt")
                            : run.path("finishedAt"));
                    if (event[0].startsWith("cascade-")) {
                        out().println(String.join("  ", when, event[0], "cascade " + run.path("direction").asText(),
                                run.path("status").asText(), run.path("nodeCount").asText() + " view(s)",
                                run.path("id").asText()));
                    } else {
                        out().println(String.join("  ", when, event[0], name(run), run.path("status").asText(),
                                run.path("durationMs").isNull() ? "" : run.path("durationMs").asText() + " ms",
                                run.path("id").asText()).replaceAll(" {3,}", "  "));
                    }
                } catch (IOException e) {
                    out().println(event[1]);
                }
            }
            out().flush();
            return count == null || ++seen[0] < count;
        });
        return 0;
    }

    /** --json and --csv. */
    static final class Formats {
        @Option(names = "--json", description = "Machine-readable JSON")
        boolean json;
        @Option(names = "--csv", description = "CSV (lists only)")
        boolean csv;

        Output.Format format() {
            return json ? Output.Format.JSON : csv ? Output.Format.CSV : Output.Format.TABLE;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = MatviewsCli.class.getPackage().getImplementationVersion();
            return new String[]{"matviews CLI " + (v == null ? "development" : v)};
        }
    }
}
