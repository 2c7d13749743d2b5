package dev.matviews;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The house rules of docs/architecture.md that a compiler does not check: packages without
 * cycles, the layers, and one writer for the data that used to have several.
 */
class ArchitectureTest {

    private static final Path MAIN = Path.of("src/main/java/dev/matviews");
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.matviews");
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.matviews.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void lowerLayersDoNotReachUp() {
        noClasses().that().resideInAnyPackage("dev.matviews.db..", "dev.matviews.problem..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.matviews.registry..", "dev.matviews.runs..",
                        "dev.matviews.refresh..", "dev.matviews.schedule..", "dev.matviews.api..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.matviews.registry..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.matviews.runs..", "dev.matviews.refresh..",
                        "dev.matviews.schedule..", "dev.matviews.api..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.matviews.runs..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.matviews.refresh..", "dev.matviews.schedule..",
                        "dev.matviews.api..")
                .check(classes);
        noClasses().that().resideInAnyPackage("dev.matviews..").and().resideOutsideOfPackage("dev.matviews.api..")
                .should().dependOnClassesThat().resideInAPackage("dev.matviews.api..")
                .check(classes);
    }

    /** The registry's outcome columns follow the run history in the database (migration V5); no Java writes them. */
    @Test
    void noJavaWritesTheRegistrysOutcomeColumns() throws IOException {
        Pattern write = Pattern.compile("\\b(last_refresh_at|last_refresh_duration_ms|last_refresh_status"
                + "|last_refresh_error|last_success_at|current_run_id)\\s*=(?!=)");
        assertEquals(List.of(), occurrences(write, null));
    }

    /** One class names matviews' advisory locks in SQL. */
    @Test
    void onlyAdvisoryLocksTakesOrReleasesLocks() throws IOException {
        Pattern lockSql = Pattern.compile("pg_(try_)?advisory_(xact_)?(un)?lock|locktype\\s*=\\s*'advisory'");
        assertEquals(List.of(), occurrences(lockSql, MAIN.resolve("db/AdvisoryLocks.java")));
    }

    /** Which job or schedule refreshes which view is decided by one SQL function (migration V5). */
    @Test
    void oneDefinitionOfWhichJobsAndSchedulesBelongToAView() throws IOException {
        assertEquals(List.of(), occurrences(Pattern.compile("payload\\s*->>\\s*'view_name'"), null));
    }

    private static List<String> occurrences(Pattern pattern, Path allowed) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                if (file.equals(allowed)) {
                    continue;
                }
                String source = Files.readString(file);
                Matcher m = pattern.matcher(source);
                while (m.find()) {
                    found.add(MAIN.relativize(file) + ": " + m.group());
                }
            }
        }
        return found;
    }
}
