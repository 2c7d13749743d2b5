package dev.matviews.cli;

/** A failed API call, with the exit code the CLI ends with. */
final class ApiException extends RuntimeException {

    static final int ERROR = 1;
    static final int USAGE = 2;
    static final int CONFLICT = 3;
    static final int NOT_FOUND = 4;
    static final int UNREACHABLE = 5;

    private final int exitCode;

    ApiException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }

    /** Exit code for an HTTP error status. */
    static int forStatus(int status) {
        return switch (status) {
            case 400, 405, 413, 414, 415, 422 -> USAGE;
            case 401, 403, 429 -> UNREACHABLE;
            case 404 -> NOT_FOUND;
            case 409 -> CONFLICT;
            default -> ERROR;
        };
    }
}
