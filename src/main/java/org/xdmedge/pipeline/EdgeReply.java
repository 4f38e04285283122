package org.xdmedge.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.xdmedge.protocol.StreamFraming;

/**
 * A successful answer; {@code body} is null for 204. {@code headers} are extra response headers
 * (for example {@code set-cookie}), by lower-case name. {@code streaming}, when not null, asks for the
 * body as Mobile SDK stream fragments. Fatal answers are thrown as EdgeProblem.
 */
public record EdgeReply(int status, ObjectNode body, Map<String, List<String>> headers,
                        StreamFraming streaming) {
    public EdgeReply(int status, ObjectNode body, Map<String, List<String>> headers) {
        this(status, body, headers, null);
    }

    public EdgeReply(int status, ObjectNode body) {
        this(status, body, Map.of());
    }
}
