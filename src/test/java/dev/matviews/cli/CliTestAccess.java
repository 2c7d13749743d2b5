package dev.matviews.cli;

import java.io.PrintWriter;
import java.util.Map;

/** The CLI's entry point for tests in other packages, with no environment and no config file. */
public final class CliTestAccess {

    private CliTestAccess() {
    }

    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return MatviewsCli.execute(args, out, err, Map.of(), null);
    }
}
