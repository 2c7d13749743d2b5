package dev.matviews.incremental;

import java.util.ArrayList;
import java.util.List;

/**
 * A definition as PostgreSQL prints it back ({@code pg_get_viewdef} under an empty search_path),
 * cut into the parts an incremental view's statements are made of: the select list, the FROM
 * clause with each table reference found, WHERE and GROUP BY.
 *
 * <p>Only that printer's output is read, never what a user typed: keywords are upper case,
 * identifiers lower case or double-quoted, every table schema-qualified, every ON and USING
 * condition parenthesized, and literals single-quoted. So a table reference is the one
 * {@code schema.name} pair in the FROM clause outside an ON or USING condition.
 */
final class DeparsedQuery {

    enum Kind { WORD, QUOTED, STRING, NUMBER, PUNCT, OPERATOR }

    record Token(Kind kind, String text, int start, int end) {
        boolean is(String word) {
            return (kind == Kind.WORD || kind == Kind.PUNCT || kind == Kind.OPERATOR) && text.equals(word);
        }

        /** An identifier as the printer writes one: quoted, or a word with no upper-case letter. */
        boolean identifier() {
            return kind == Kind.QUOTED || (kind == Kind.WORD && text.equals(text.toLowerCase(java.util.Locale.ROOT)));
        }
    }

    /** A table reference in FROM: the span of its {@code [ONLY] schema.name}, and whether an alias follows. */
    record TableRef(int start, int end, String qualified, String name, boolean aliased) {
    }

    private final String sql;
    final boolean distinct;
    final List<String> targets;
    final int fromStart;
    final int fromEnd;
    final List<TableRef> tables;
    final String where;
    final List<String> groupBy;

    DeparsedQuery(String printed) {
        String text = printed.strip();
        if (text.endsWith(";")) {
            text = text.substring(0, text.length() - 1);
        }
        this.sql = text;
        List<Token> tokens = tokenize(text);
        int select = indexAtTop(tokens, 0, "SELECT");
        if (select != 0) {
            throw new IllegalArgumentException("not a plain SELECT: " + text);
        }
        int pos = 1;
        boolean dist = pos < tokens.size() && tokens.get(pos).is("DISTINCT");
        if (dist) {
            pos++;
        }
        this.distinct = dist;
        int from = indexAtTop(tokens, pos, "FROM");
        if (from < 0) {
            throw new IllegalArgumentException("no FROM clause: " + text);
        }
        this.targets = split(tokens, pos, from);
        int whereAt = indexAtTop(tokens, from + 1, "WHERE");
        int groupAt = indexAtTop(tokens, from + 1, "GROUP");
        int fromLast = whereAt >= 0 ? whereAt : groupAt >= 0 ? groupAt : tokens.size();
        this.fromStart = tokens.get(from + 1).start();
        this.fromEnd = tokens.get(fromLast - 1).end();
        this.tables = tableRefs(tokens, from + 1, fromLast);
        this.where = whereAt < 0 ? null
                : text.substring(tokens.get(whereAt + 1).start(), tokens.get((groupAt >= 0 ? groupAt : tokens.size()) - 1).end());
        if (groupAt >= 0) {
            if (groupAt + 1 >= tokens.size() || !tokens.get(groupAt + 1).is("BY")) {
                throw new IllegalArgumentException("GROUP without BY: " + text);
            }
            this.groupBy = split(tokens, groupAt + 2, tokens.size());
        } else {
            this.groupBy = List.of();
        }
    }

    /** The FROM clause with table reference {@code i} replaced by {@code replacement[i]} (a parenthesized query). */
    String from(List<String> replacement) {
        StringBuilder out = new StringBuilder();
        int at = fromStart;
        for (int i = 0; i < tables.size(); i++) {
            TableRef t = tables.get(i);
            out.append(sql, at, t.start()).append(replacement.get(i));
            if (!t.aliased()) {
                // the printer leaves out an alias equal to the table's name, which columns are then qualified with
                out.append(' ').append(t.name());
            }
            at = t.end();
        }
        return out.append(sql, at, fromEnd).toString();
    }

    /** The FROM clause as printed. */
    String from() {
        return sql.substring(fromStart, fromEnd);
    }

    /** A target's expression without its {@code AS name}. */
    static String expression(String target) {
        List<Token> tokens = tokenize(target);
        int n = tokens.size();
        if (n >= 3 && tokens.get(n - 2).is("AS") && tokens.get(n - 1).identifier()) {
            return target.substring(0, tokens.get(n - 2).start()).strip();
        }
        return target.strip();
    }

    /** For an aggregate call {@code name(args)}: its arguments' text, "*" for count(*). */
    static String aggregateArgument(String expression) {
        List<Token> tokens = tokenize(expression);
        if (tokens.size() < 3 || !tokens.get(1).is("(") || !tokens.get(tokens.size() - 1).is(")")) {
            throw new IllegalArgumentException("not an aggregate call: " + expression);
        }
        return expression.substring(tokens.get(2).start(), tokens.get(tokens.size() - 1).start()).strip();
    }

    private static List<TableRef> tableRefs(List<Token> tokens, int from, int to) {
        List<TableRef> refs = new ArrayList<>();
        for (int i = from; i < to; i++) {
            Token t = tokens.get(i);
            if ((t.is("ON") || t.is("USING")) && i + 1 < to && tokens.get(i + 1).is("(")) {
                i = closing(tokens, i + 1);
                continue;
            }
            if (i + 2 < to && t.identifier() && tokens.get(i + 1).is(".") && tokens.get(i + 2).identifier()) {
                int start = i > from && tokens.get(i - 1).is("ONLY") ? tokens.get(i - 1).start() : t.start();
                Token name = tokens.get(i + 2);
                boolean aliased = i + 3 < to && tokens.get(i + 3).identifier();
                refs.add(new TableRef(start, name.end(), t.text() + "." + name.text(), name.text(), aliased));
                i += 2;
            }
        }
        return refs;
    }

    private static int closing(List<Token> tokens, int open) {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            if (tokens.get(i).is("(")) {
                depth++;
            } else if (tokens.get(i).is(")") && --depth == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("unbalanced parentheses");
    }

    private static int indexAtTop(List<Token> tokens, int from, String word) {
        int depth = 0;
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.is("(") || t.is("[")) {
                depth++;
            } else if (t.is(")") || t.is("]")) {
                depth--;
            } else if (i >= from && depth == 0 && t.kind() == Kind.WORD && t.text().equals(word)) {
                return i;
            }
        }
        return -1;
    }

    /** The text between token {@code from} and {@code to}, split at top-level commas. */
    private List<String> split(List<Token> tokens, int from, int to) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = from;
        for (int i = from; i <= to; i++) {
            if (i == to || (depth == 0 && tokens.get(i).is(","))) {
                if (i > start) {
                    parts.add(sql.substring(tokens.get(start).start(), tokens.get(i - 1).end()));
                }
                start = i + 1;
                continue;
            }
            Token t = tokens.get(i);
            if (t.is("(") || t.is("[")) {
                depth++;
            } else if (t.is(")") || t.is("]")) {
                depth--;
            }
        }
        return parts;
    }

    static List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            int start = i;
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < n && s.charAt(i + 1) == '\'')) {
                boolean escapes = c != '\'';
                i = escapes ? i + 2 : i + 1;
                while (i < n) {
                    char d = s.charAt(i);
                    if (escapes && d == '\\') {
                        i += 2;
                    } else if (d == '\'' && i + 1 < n && s.charAt(i + 1) == '\'') {
                        i += 2;
                    } else if (d == '\'') {
                        i++;
                        break;
                    } else {
                        i++;
                    }
                }
                out.add(new Token(Kind.STRING, s.substring(start, i), start, i));
            } else if (c == '"') {
                i++;
                while (i < n) {
                    if (s.charAt(i) == '"' && i + 1 < n && s.charAt(i + 1) == '"') {
                        i += 2;
                    } else if (s.charAt(i) == '"') {
                        i++;
                        break;
                    } else {
                        i++;
                    }
                }
                out.add(new Token(Kind.QUOTED, s.substring(start, i), start, i));
            } else if (Character.isLetter(c) || c == '_') {
                while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '$')) {
                    i++;
                }
                out.add(new Token(Kind.WORD, s.substring(start, i), start, i));
            } else if (Character.isDigit(c)) {
                while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '.'
                        || ((s.charAt(i) == '+' || s.charAt(i) == '-') && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')))) {
                    i++;
                }
                out.add(new Token(Kind.NUMBER, s.substring(start, i), start, i));
            } else if ("(),;.[]".indexOf(c) >= 0) {
                i++;
                out.add(new Token(Kind.PUNCT, String.valueOf(c), start, i));
            } else {
                while (i < n && "+-*/<>=~!@#%^&|`?:".indexOf(s.charAt(i)) >= 0) {
                    i++;
                }
                if (i == start) {
                    i++;
                }
                out.add(new Token(Kind.OPERATOR, s.substring(start, i), start, i));
            }
        }
        return out;
    }
}
