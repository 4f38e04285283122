package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dead-letter file on disk, as a crash may leave it. */
class DeadLetterStoreTest {
    @TempDir
    Path dir;

    @Test
    void aLineACrashCutShortDoesNotSwallowTheNextLetter() throws Exception {
        DeadLetterStore.append(dir, List.of(letter(1)));
        Path file = DeadLetterStore.of(dir, "crm");
        // A crash in the middle of the next append: half a line, no newline.
        Files.write(file, "{\"destination\":\"crm\",\"rea".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);

        DeadLetterStore.append(dir, List.of(letter(2)));

        assertThat(DeadLetterStore.list(dir, "crm")).extracting(e -> e.line().path("seq").asLong())
                .containsExactly(1L, 2L);
    }

    private static DeadLetter letter(long seq) {
        return new DeadLetter("crm", "rejected", 400, "bad", 1, 1_000L * seq, seq,
                ("{\"eventId\":\"e-" + seq + "\"}").getBytes(StandardCharsets.UTF_8));
    }
}
