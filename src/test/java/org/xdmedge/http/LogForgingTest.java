package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.xdmedge.testing.TestEdge;

/**
 * With debug logging on, values taken from requests (datastream ids, content types, bodies quoted
 * in a refusal) never write a control character into the log: a CR/LF cannot start a line of the
 * client's own.
 */
class LogForgingTest {
    static final String FORGED = "x\r\n12:00:00.000 INFO  [main] o.x.EdgeNode - admin logged in\u001b[2K\u0085\u2028";

    @TempDir
    Path dir;

    @Test
    void requestValuesAreEscapedInLogLines() throws Exception {
        Logger xdm = (Logger) LoggerFactory.getLogger("org.xdmedge");
        Level before = xdm.getLevel();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        xdm.setLevel(Level.DEBUG);
        try (TestEdge edge = TestEdge.start(dir.resolve("data"))) {
            String encoded = URLEncoder.encode(FORGED, StandardCharsets.UTF_8);
            String body = CollectEndpointTest.event("e", "u");
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=" + encoded, body).statusCode()).isEqualTo(400);
            assertThat(edge.postJson("/ee/v2/interact?configId=" + encoded, "{\"event\":{\"xdm\":{}}}").statusCode())
                    .isEqualTo(400);
            // The decoder refuses C0 controls in header values; the C1 ones (bytes 0x80-0x9f) reach the edge as sent.
            RequestGuardTest.Raw raw = RequestGuardTest.raw(edge.port(), "POST /ee/v2/collect?datastreamId=ds HTTP/1.1\r\n"
                    + "host: x\r\ncontent-type: text/red\u0085\u009b31m\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                    Duration.ofSeconds(10));
            assertThat(raw.status()).as(raw.body()).isEqualTo(415);
        } finally {
            xdm.setLevel(before);
            root.detachAppender(appender);
        }
        List<String> lines = new ArrayList<>();
        synchronized (appender) {
            for (ILoggingEvent e : appender.list) {
                lines.add(e.getFormattedMessage());
            }
        }
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("x\\r\\n12:00:00.000 INFO"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("text/red\\u0085\\u009b31m"));
        for (String line : lines) {
            assertThat(line.chars().filter(c -> c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029))
                    .as(line).isEmpty();
        }
    }
}
