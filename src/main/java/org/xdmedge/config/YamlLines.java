package org.xdmedge.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each key of a YAML text is written, so a problem names its line: key paths like
 * {@code datastreams[0].orgId} mapped to line numbers. Read after the text parsed once, so a
 * failure here only loses line numbers.
 */
public final class YamlLines {
    private static final YAMLFactory YAML = new YAMLFactory();
    private final Map<String, Integer> lines;

    private YamlLines(Map<String, Integer> lines) {
        this.lines = lines;
    }

    public static YamlLines of(String text) {
        Map<String, Integer> lines = new HashMap<>();
        try (JsonParser parser = YAML.createParser(text)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.FIELD_NAME || token == JsonToken.START_OBJECT) {
                    String path = dotted(parser.getParsingContext().pathAsPointer().toString());
                    if (token == JsonToken.FIELD_NAME && path.isEmpty()) {
                        path = parser.currentName();
                    }
                    lines.putIfAbsent(path, parser.currentTokenLocation().getLineNr());
                }
            }
        } catch (IOException e) {
            // Only line numbers are lost.
        }
        return new YamlLines(lines);
    }

    /** The line of {@code path}, or of its nearest parent that has one (list items have none of their own); 0 if none. */
    public int lineOf(String path) {
        String at = path;
        while (!at.isEmpty()) {
            Integer line = lines.get(at);
            if (line != null) {
                return line;
            }
            int cut = Math.max(at.lastIndexOf('.'), at.lastIndexOf('['));
            at = cut < 0 ? "" : at.substring(0, cut);
        }
        return 0;
    }

    /** The key path Jackson refused, as {@code a[0].b}. */
    public static String pathOf(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (out.length() > 0) {
                    out.append('.');
                }
                out.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    /** {@code /a/0/b} as {@code a[0].b}. */
    private static String dotted(String pointer) {
        StringBuilder out = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            if (part.chars().allMatch(Character::isDigit)) {
                out.append('[').append(part).append(']');
            } else {
                if (out.length() > 0) {
                    out.append('.');
                }
                out.append(part);
            }
        }
        return out.toString();
    }
}
