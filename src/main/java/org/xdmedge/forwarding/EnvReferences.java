package org.xdmedge.forwarding;

import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code ${env:NAME}} in a configuration value: replaced by the environment variable, read at start-up. */
public final class EnvReferences {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern ANY = Pattern.compile("\\$\\{");

    private EnvReferences() {}

    /** Null when every {@code ${...}} in {@code value} is a well-formed {@code ${env:NAME}}; else what is wrong. */
    static String syntaxProblem(String value) {
        if (value == null) {
            return null;
        }
        String rest = REFERENCE.matcher(value).replaceAll("");
        return ANY.matcher(rest).find() ? "a reference must be written ${env:NAME} (letters, digits, '_')" : null;
    }

    /** {@code value} with its references replaced; a variable that is not set is an error naming it. */
    static String resolve(String value, Function<String, String> env) {
        if (value == null) {
            return null;
        }
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String found = env.apply(m.group(1));
            if (found == null) {
                throw new IllegalArgumentException("the environment variable " + m.group(1) + " is not set");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(found));
        }
        m.appendTail(out);
        return out.toString();
    }
}
