package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edge appends dead letters while {@code dead-letters replay}, another process, takes them: the
 * operating-system lock beside the file is what keeps every letter, tested across two processes.
 */
class DeadLetterLockTest {
    @TempDir
    Path dir;

    @Test
    void anAppendWaitsWhileAReplayRenamesTheFile() throws Exception {
        DeadLetterStore.append(dir, List.of(letter(1)));
        Path file = DeadLetterStore.of(dir, "crm");
        Path aside = file.resolveSibling("taken");
        try (FileChannel channel = FileChannel.open(DeadLetterStore.lockFile(dir, "crm"), StandardOpenOption.WRITE);
             DeadLetterProcess.Child edge = new DeadLetterProcess.Child("append", dir.toString(), "2", "2")) {
            try (FileLock renaming = channel.lock(DeadLetterStore.WRITING, 1, false)) {
                assertThat(edge.line()).isEqualTo("appending 2");
                assertThat(edge.process.waitFor(1, TimeUnit.SECONDS)).as("the append waits for the lock").isFalse();
                Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
            }
            assertThat(edge.line()).isEqualTo("appended 2");
            assertThat(edge.exit()).isZero();
        }
        assertThat(Files.readString(aside)).contains("\"seq\":1").doesNotContain("\"seq\":2");
        assertThat(DeadLetterStore.list(dir, "crm")).extracting(DeadLetterStore.Entry::seq).containsExactly(2L);
    }

    @Test
    void replaysBesideAnAppendingProcessLoseAndRepeatNothing() throws Exception {
        int count = 300;
        List<Long> replayed = new ArrayList<>();
        try (DeadLetterProcess.Child edge = new DeadLetterProcess.Child("append", dir.toString(), "1", String.valueOf(count))) {
            while (edge.process.isAlive()) {
                takeAll(replayed);
            }
            assertThat(edge.exit()).isZero();
        }
        takeAll(replayed);
        assertThat(replayed).containsExactlyElementsOf(LongStream.rangeClosed(1, count).boxed().toList());
        assertThat(DeadLetterStore.list(dir, "crm")).isEmpty();
    }

    private void takeAll(List<Long> into) throws Exception {
        try (DeadLetterStore.Replay replay = DeadLetterStore.takeForReplay(dir, "crm")) {
            replay.entries().forEach(e -> into.add(e.seq()));
            replay.finish(List.of());
        }
    }

    @Test
    void oneReplayAtATimeAcrossProcesses() throws Exception {
        DeadLetterStore.append(dir, List.of(letter(1), letter(2)));
        try (DeadLetterStore.Replay first = DeadLetterStore.takeForReplay(dir, "crm")) {
            assertThat(first.entries()).hasSize(2);
            assertThatThrownBy(() -> DeadLetterStore.takeForReplay(dir, "crm"))
                    .isInstanceOf(DeadLetterStore.ReplayRunning.class);
            try (DeadLetterProcess.Child other = new DeadLetterProcess.Child("replay", dir.toString())) {
                assertThat(other.line()).isEqualTo("running");
                assertThat(other.exit()).isZero();
            }
            first.finish(List.of(letter(2)));
        }
        try (DeadLetterProcess.Child other = new DeadLetterProcess.Child("replay", dir.toString())) {
            assertThat(other.line()).as("the failed-again letter is back for the next replay").isEqualTo("took 1");
            assertThat(other.exit()).isZero();
        }
    }

    static DeadLetter letter(long seq) {
        return new DeadLetter("crm", "rejected", 400, "bad", 1, 1_000L * seq, seq,
                ("{\"eventId\":\"e-" + seq + "\"}").getBytes(StandardCharsets.UTF_8));
    }
}
