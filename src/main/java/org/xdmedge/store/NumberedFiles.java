package org.xdmedge.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Files named by a number and a suffix ({@code 000042.ids}): event segments and id tables. */
final class NumberedFiles {
    private NumberedFiles() {}

    /** The files of {@code directory} named digits + {@code suffix}, in the order of their numbers (none: empty). */
    static List<Path> list(Path directory, String suffix) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            files.filter(f -> isNamed(f.getFileName().toString(), suffix)).forEach(found::add);
        }
        found.sort((a, b) -> Long.compare(number(a, suffix), number(b, suffix)));
        return found;
    }

    static long number(Path file, String suffix) {
        String name = file.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - suffix.length()));
    }

    static String name(long number, int digits, String suffix) {
        return String.format("%0" + digits + "d%s", number, suffix);
    }

    static boolean isNamed(String name, String suffix) {
        if (!name.endsWith(suffix) || name.length() == suffix.length() || name.length() - suffix.length() > 18) {
            return false;
        }
        for (int i = 0; i < name.length() - suffix.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
