/** Named checks that all run, and one exit code for ctest. */
class Checks {
    final String suite
    private final List<String> failures = []
    private int count = 0

    Checks(String suite) { this.suite = suite }

    void check(boolean condition, String what) {
        ++count
        if (!condition) {
            failures << what
            System.err.println("FAIL ${suite}: ${what}")
        }
    }

    void equal(Object actual, Object expected, String what) {
        check(actual == expected, "${what}: expected ${expected}, got ${actual}")
    }

    /** The exception `action` throws (failing the check when it throws none). */
    Throwable throwsFrom(String what, Closure action) {
        try {
            action()
        } catch (Throwable t) {
            check(true, what)
            return t
        }
        check(false, "${what}: nothing was thrown")
        null
    }

    int finish() {
        if (count == 0)
            failures << 'no check ran'
        println(failures ? "${suite}: ${failures.size()} of ${count} checks failed" : "${suite}: ${count} checks passed")
        failures ? 1 : 0
    }
}
