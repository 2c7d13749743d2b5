package dev.matviews.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Predicate;

/** The admin REST API as the CLI uses it: JSON in, JSON out, problems turned into exit codes. */
final class ApiClient {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final String MATVIEWS = "/api/admin/matviews";

    // HTTP/1.1: the JDK client's default (HTTP/2) opens every plain-text connection with an h2c
    // upgrade, one more handshake for a CLI that makes a request or two and follows event streams.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String token;
    private final boolean login;

    ApiClient(String url, String token, boolean insecure) {
        this(url, token, false, insecure);
    }

    private ApiClient(String url, String token, boolean login, boolean insecure) {
        this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.token = token;
        this.login = login;
        if ((token != null || login) && !insecure && !safeToSendCredentials(this.base)) {
            throw new ApiException(ApiException.USAGE, "Refusing to send a " + (login ? "password" : "token")
                    + " over plain http to " + URI.create(this.base).getHost() + ": anyone on the way could read it."
                    + " Use https, or --insecure if this network is trusted");
        }
    }

    /** A client for the login call only: no token, and a refusal is a refused login. */
    static ApiClient forLogin(String url, boolean insecure) {
        return new ApiClient(url, null, true, insecure);
    }

    /** Credentials travel over https, or over plain http only to this machine. */
    static boolean safeToSendCredentials(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return true; // not a URL: the request fails before anything is sent
        }
        if (!"http".equalsIgnoreCase(uri.getScheme())) {
            return true;
        }
        String host = uri.getHost();
        if (host == null) {
            return true;
        }
        String h = host.toLowerCase(java.util.Locale.ROOT);
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return true;
        }
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        // an address literal only: a name is not resolved to decide
        if (h.matches("[0-9.]+") || h.contains(":")) {
            try {
                return java.net.InetAddress.getByName(h).isLoopbackAddress();
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    JsonNode get(String path) {
        return send(request(path).GET());
    }

    /** A body that is not JSON (Graphviz source), as text. */
    String getText(String path, String mediaType) {
        return sendForText(request(path).setHeader("Accept", mediaType).GET());
    }

    JsonNode post(String path, JsonNode body) {
        return send(request(path).POST(body(body)));
    }

    JsonNode put(String path, JsonNode body) {
        return send(request(path).PUT(body(body)));
    }

    JsonNode delete(String path) {
        return send(request(path).DELETE());
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /**
     * An id as given, or {@code schema.view} (or {@code view} in public) looked up by name: one
     * small request, however many views are registered.
     */
    String resolve(String ref) {
        try {
            return UUID.fromString(ref).toString();
        } catch (IllegalArgumentException notAnId) {
            int dot = ref.indexOf('.');
            String schema = dot < 0 ? "public" : ref.substring(0, dot);
            String view = dot < 0 ? ref : ref.substring(dot + 1);
            String query = "?schema=" + URLEncoder.encode(schema, StandardCharsets.UTF_8)
                    + "&view=" + URLEncoder.encode(view, StandardCharsets.UTF_8);
            for (JsonNode item : get(MATVIEWS + query).path("items")) {
                if (schema.equals(item.path("schemaName").asText()) && view.equals(item.path("viewName").asText())) {
                    return item.path("id").asText();
                }
            }
            throw new ApiException(ApiException.NOT_FOUND, "No registered materialized view " + schema + "." + view);
        }
    }

    /**
     * Follows a Server-Sent Events stream, handing each event's name and data to {@code onEvent}
     * until it answers false.
     */
    void follow(String path, Predicate<String[]> onEvent) {
        HttpRequest request = request(path).header("Accept", "text/event-stream").GET().build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() >= 400) {
                throw problem(response.statusCode(), new String(response.body().readAllBytes(), StandardCharsets.UTF_8));
            }
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String name = null;
                StringBuilder data = new StringBuilder();
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.isEmpty()) {
                        if (data.length() > 0 && !onEvent.test(new String[]{name, data.toString()})) {
                            return;
                        }
                        name = null;
                        data.setLength(0);
                    } else if (line.startsWith("event:")) {
                        name = line.substring(6).trim();
                    } else if (line.startsWith("data:")) {
                        data.append(line.substring(5).trim());
                    }
                }
            }
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder;
        try {
            builder = HttpRequest.newBuilder(URI.create(base + path));
        } catch (IllegalArgumentException e) {
            throw new ApiException(ApiException.USAGE, "Not a valid service URL: " + base);
        }
        builder.timeout(Duration.ofMinutes(60)).header("Accept", "application/json");
        if (token != null && !token.isBlank()) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private static HttpRequest.BodyPublisher body(JsonNode body) {
        return HttpRequest.BodyPublishers.ofString(body == null ? "" : body.toString());
    }

    private JsonNode send(HttpRequest.Builder builder) {
        String text = sendForText(builder);
        try {
            return text == null || text.isEmpty() ? JSON.nullNode() : JSON.readTree(text);
        } catch (IOException e) {
            throw new ApiException(ApiException.ERROR, "The service answered something that is not JSON: " + e.getMessage());
        }
    }

    private String sendForText(HttpRequest.Builder builder) {
        HttpRequest request = builder.header("Content-Type", "application/json").build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 400) {
                throw problem(response.statusCode(), response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(ApiException.ERROR, "Interrupted");
        }
    }

    private ApiException unreachable(IOException e) {
        String why = e instanceof ConnectException ? "connection refused" : String.valueOf(e.getMessage());
        return new ApiException(ApiException.UNREACHABLE, "Cannot reach the matviews service at " + base + " (" + why + ")");
    }

    /** The problem's detail when the body is one, else the status line. */
    private ApiException problem(int status, String body) {
        String detail = null;
        try {
            JsonNode json = JSON.readTree(body);
            detail = json.hasNonNull("detail") ? json.get("detail").asText() : json.path("message").asText(null);
        } catch (IOException | RuntimeException ignored) {
            // not JSON
        }
        if (detail == null || detail.isBlank()) {
            detail = "HTTP " + status;
        }
        if (status == 401 && login) {
            detail = "Login refused (401): " + detail;
        } else if (status == 401 && token != null) {
            detail = "Not authorised (401): " + detail + "; the token was refused or has expired: log in again"
                    + " (matviews login), or pass another with --token or MATVIEWS_TOKEN";
        } else if (status == 401) {
            detail = "Not authorised (401): " + detail + "; log in (matviews login), or pass --token or set MATVIEWS_TOKEN";
        } else if (status == 403) {
            detail = "Not authorised (403): " + detail + "; this needs the admin role";
        }
        return new ApiException(ApiException.forStatus(status), detail);
    }
}
