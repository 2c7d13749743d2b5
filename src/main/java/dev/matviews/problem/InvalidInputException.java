package dev.matviews.problem;

/** The request itself is wrong; nothing was executed. */
public final class InvalidInputException extends MatviewsException {

    private static final int SHOWN_CHARS = 40;

    public InvalidInputException(String detail) {
        super(detail);
    }

    /** A value as a refusal quotes it: at most 40 characters, control characters shown as '?'. */
    public static String quoted(String value) {
        if (value == null) {
            return "null";
        }
        String shown = value.length() > SHOWN_CHARS ? value.substring(0, SHOWN_CHARS) + "…" : value;
        return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
    }
}
