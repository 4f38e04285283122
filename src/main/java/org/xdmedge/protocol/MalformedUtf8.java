package org.xdmedge.protocol;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;
import java.io.IOException;

/**
 * Refuses a UTF-8 body that is not well-formed UTF-8, for the path that reads a body whole. The
 * mapper decodes overlong forms, encoded surrogates and code points above U+10FFFF without
 * complaint, so the event would be stored with other text than was sent; {@link JsonScan} refuses
 * them on the lean path, and every body it refuses comes here before the mapper reads it.
 */
final class MalformedUtf8 {
    private MalformedUtf8() {}

    /** Throws an {@link EdgeError#INVALID_JSON} problem naming the field that holds the first malformed sequence. */
    static void refuse(byte[] body) {
        int at = Utf8.firstMalformed(body, 0, body.length);
        if (at < 0 || !readAsUtf8(body)) {
            return;
        }
        String what = "not well-formed UTF-8: " + Utf8.describeMalformed(body, at, body.length);
        String[] field = fieldAt(body, at);
        if (field == null) {
            throw new EdgeProblem(EdgeError.INVALID_JSON, "The request body is " + what + ".");
        }
        throw EdgeProblem.field(EdgeError.INVALID_JSON, field[0], field[1] + " is " + what);
    }

    /** Whether the mapper reads the body as UTF-8 (it reads UTF-16 and 32 too, told by the first bytes). */
    private static boolean readAsUtf8(byte[] body) {
        try (JsonParser parser = EdgeJson.MAPPER.getFactory().createParser(body)) {
            return parser instanceof UTF8StreamJsonParser;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * The path of the string that holds byte {@code at} and whether it is the string or a key of
     * that object ("the text" or "a key"), or null when the JSON before it cannot be read. The
     * tokens are read from a copy with every malformed byte made an ASCII letter: the offsets stay
     * the same and the mapper does not stop at the bytes this is about.
     */
    private static String[] fieldAt(byte[] body, int at) {
        byte[] mended = body.clone();
        for (int i = at; (i = Utf8.firstMalformed(mended, i, mended.length)) >= 0; i++) {
            mended[i] = 'x';
        }
        String[] found = null;
        try (JsonParser parser = EdgeJson.MAPPER.getFactory().createParser(mended)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null && parser.currentTokenLocation().getByteOffset() <= at) {
                JsonStreamContext context = parser.getParsingContext();
                if (token == JsonToken.FIELD_NAME) {
                    found = new String[] {path(context.getParent()), "a key"};
                } else if (token == JsonToken.VALUE_STRING) {
                    found = new String[] {path(context), "the text"};
                } else {
                    found = null; // between tokens only JSON's ASCII punctuation is valid
                }
            }
        } catch (JsonProcessingException e) {
            // Past the sequence the string that holds it was read whole; before it, the offset must do.
            return e.getLocation() != null && e.getLocation().getByteOffset() > at ? found : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return found;
    }

    /** The field path of a context, as the parser's other problems name fields ({@code events[0].xdm.a}); {@code $} for the root. */
    private static String path(JsonStreamContext context) {
        StringBuilder path = new StringBuilder();
        append(path, context);
        return path.length() == 0 ? "$" : path.toString();
    }

    private static void append(StringBuilder path, JsonStreamContext context) {
        if (context == null || context.inRoot()) {
            return;
        }
        append(path, context.getParent());
        if (context.inArray()) {
            path.append('[').append(Math.max(context.getCurrentIndex(), 0)).append(']');
        } else {
            path.append(path.length() == 0 ? "" : ".").append(context.getCurrentName());
        }
    }
}
