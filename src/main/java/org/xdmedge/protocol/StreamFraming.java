package org.xdmedge.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Streamed answers as the Mobile SDKs ask for them with
 * {@code meta.konductorConfig.streaming: {enabled: true, recordSeparator: "\u0000", lineFeed: "\n"}}:
 * the body is a sequence of fragments, each a complete response object ({@code requestId},
 * {@code handle[]}, and {@code errors}/{@code warnings} where present) prefixed by the record separator
 * and ended by the line feed. The SDK splits on the line feed and drops the separator's length.
 *
 * <p>Both markers must be control characters: compact JSON escapes every control character inside
 * strings, so they can never occur inside a fragment.
 */
public record StreamFraming(String recordSeparator, String lineFeed) {
    private static final int MAX_MARKER_LENGTH = 8;

    /** The framing the request asks for, or null for an ordinary JSON answer. */
    public static StreamFraming from(ObjectNode meta) {
        if (meta == null) {
            return null;
        }
        JsonNode streaming = meta.path("konductorConfig").path("streaming");
        if (!streaming.isObject() || !streaming.path("enabled").asBoolean(false)) {
            return null;
        }
        String base = "meta.konductorConfig.streaming.";
        String separator = marker(streaming.get("recordSeparator"), base + "recordSeparator", true);
        String lineFeed = marker(streaming.get("lineFeed"), base + "lineFeed", false);
        return new StreamFraming(separator, lineFeed);
    }

    private static String marker(JsonNode node, String path, boolean mayBeEmpty) {
        if (node == null || !node.isTextual()) {
            throw EdgeProblem.field(EdgeError.INVALID_FIELD, path, "streaming needs string 'recordSeparator' and 'lineFeed'");
        }
        String value = node.asText();
        boolean control = value.chars().allMatch(c -> c < 0x20 || c == 0x7f);
        if ((!mayBeEmpty && value.isEmpty()) || value.length() > MAX_MARKER_LENGTH || !control) {
            throw EdgeProblem.field(EdgeError.INVALID_FIELD, path,
                    "must be 1 to " + MAX_MARKER_LENGTH + " control characters, such as \"\\u0000\" or \"\\n\"");
        }
        return value;
    }

    /**
     * One fragment per handle, then one with the errors and warnings, if any; at least one fragment.
     */
    public byte[] render(ObjectNode body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonNode handles = body.path("handle");
        int fragments = 0;
        if (handles.isArray()) {
            for (JsonNode handle : handles) {
                ObjectNode fragment = EdgeJson.MAPPER.createObjectNode();
                fragment.set("requestId", body.get("requestId"));
                fragment.putArray("handle").add(handle);
                write(out, fragment);
                fragments++;
            }
        }
        if (body.has("errors") || body.has("warnings") || fragments == 0) {
            ObjectNode rest = EdgeJson.MAPPER.createObjectNode();
            rest.set("requestId", body.get("requestId"));
            rest.set("handle", EdgeJson.MAPPER.createArrayNode());
            if (body.has("errors")) {
                rest.set("errors", body.get("errors"));
            }
            if (body.has("warnings")) {
                rest.set("warnings", body.get("warnings"));
            }
            write(out, rest);
        }
        return out.toByteArray();
    }

    private void write(ByteArrayOutputStream out, ObjectNode fragment) {
        try {
            out.write(recordSeparator.getBytes(StandardCharsets.UTF_8));
            out.write(EdgeJson.MAPPER.writeValueAsBytes(fragment));
            out.write(lineFeed.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
