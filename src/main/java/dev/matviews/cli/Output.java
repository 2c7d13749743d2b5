package dev.matviews.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Tables for people, CSV and JSON for scripts. */
final class Output {

    enum Format { TABLE, JSON, CSV }

    /** A column: its header and how to read it from an item. */
    record Column(String header, Function<JsonNode, String> value) {
        static Column of(String header, String field) {
            return new Column(header, item -> text(item.path(field)));
        }
    }

    private Output() {
    }

    static String text(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode() ? "" : node.asText();
    }

    static void json(PrintWriter out, JsonNode node) {
        try {
            out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void list(PrintWriter out, Format format, JsonNode items, List<Column> columns, String empty) {
        if (format == Format.JSON) {
            json(out, items);
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(columns.stream().map(Column::header).toArray(String[]::new));
        for (JsonNode item : items) {
            rows.add(columns.stream().map(c -> c.value().apply(item)).toArray(String[]::new));
        }
        if (format == Format.CSV) {
            rows.forEach(row -> out.println(String.join(",", java.util.Arrays.stream(row).map(Output::csv).toList())));
            return;
        }
        if (rows.size() == 1) {
            out.println(empty);
            return;
        }
        int[] widths = new int[columns.size()];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 2) + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String csv(String value) {
        if (value.contains(",") || value.contains("\"") || value.contains("\n")) {
            return '"' + value.replace("\"", "\"\"") + '"';
        }
        return value;
    }
}
