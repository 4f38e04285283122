package org.xdmedge.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogSafeTest {
    @Test
    void plainTextIsReturnedAsItIs() {
        String plain = "ds-1/ee/v2/collect?x=é ü";
        assertThat(LogSafe.text(plain)).isSameAs(plain);
        assertThat(LogSafe.text(null)).isEqualTo("-");
    }

    @Test
    void controlCharactersAndSeparatorsAreEscapedUnambiguously() {
        assertThat(LogSafe.text("a\r\nb\tc")).isEqualTo("a\\r\\nb\\tc");
        assertThat(LogSafe.text("\u001b[2K\u0000\u007f\u0085\u2028\u2029")).isEqualTo("\\u001b[2K\\u0000\\u007f\\u0085\\u2028\\u2029");
        // a backslash is escaped too, so "\n" sent as two characters does not read as an escaped line break
        assertThat(LogSafe.text("a\\nb")).isEqualTo("a\\\\nb");
    }

    @Test
    void longValuesAreCutWithTheirLengthSaid() {
        String cut = LogSafe.text("x".repeat(1000));
        assertThat(cut).startsWith("x".repeat(LogSafe.MAX_CHARS)).endsWith("…(1000 chars)");
    }

    @Test
    void failureMessagesAreEscapedInTheirWholeChain() {
        IllegalStateException plain = new IllegalStateException("plain", new RuntimeException("also plain"));
        assertThat(LogSafe.failure(plain)).isSameAs(plain);
        RuntimeException forged = new RuntimeException("outer", new IllegalArgumentException("in\r\nner"));
        Throwable safe = LogSafe.failure(forged);
        assertThat(safe.getMessage()).isEqualTo("java.lang.RuntimeException: outer");
        assertThat(safe.getCause().getMessage()).isEqualTo("java.lang.IllegalArgumentException: in\\r\\nner");
        assertThat(safe.getStackTrace()).isEqualTo(forged.getStackTrace());
    }
}
