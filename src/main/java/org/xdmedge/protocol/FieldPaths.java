package org.xdmedge.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Field paths compiled once (a tree of their steps), to read just those values of a JSON object:
 * from its tree, or from its bytes with one walk that builds only the values found and stops once
 * every path is settled.
 * A step is a member name, or an item index where the value is an array ({@code items.0.SKU}).
 */
public final class FieldPaths {
    private final Step root;
    private final int size;
    /** Every name is ASCII: a byte walk compares names byte by byte. */
    private final boolean ascii;

    /** One step: the paths ending here, and the next steps by name. */
    private static final class Step {
        final Map<String, Step> next = new LinkedHashMap<>();
        final List<Integer> ends = new ArrayList<>();
        String[] names;
        Step[] steps;
        /** Per name: the array index it names, or -1. */
        int[] indexes;
        boolean hasIndexes;
        /** The paths that end here or further on. */
        int below;

        int freeze() {
            names = next.keySet().toArray(new String[0]);
            steps = next.values().toArray(new Step[0]);
            indexes = new int[names.length];
            for (int i = 0; i < names.length; i++) {
                indexes[i] = isIndex(names[i]) ? Integer.parseInt(names[i]) : -1;
                hasIndexes |= indexes[i] >= 0;
            }
            below = ends.size();
            for (Step s : steps) {
                below += s.freeze();
            }
            return below;
        }
    }

    private FieldPaths(Step root, int size, boolean ascii) {
        this.root = root;
        this.size = size;
        this.ascii = ascii;
    }

    /** The paths, each a list of steps; the values read come back in this order. */
    public static FieldPaths of(List<String[]> paths) {
        Step root = new Step();
        boolean ascii = true;
        for (int i = 0; i < paths.size(); i++) {
            Step at = root;
            for (String step : paths.get(i)) {
                at = at.next.computeIfAbsent(step, k -> new Step());
                ascii &= step.chars().allMatch(c -> c < 0x80);
            }
            at.ends.add(i);
        }
        root.freeze();
        return new FieldPaths(root, paths.size(), ascii);
    }

    public int size() {
        return size;
    }

    /** The value at each path in {@code tree}; null where it is absent or JSON null. */
    public JsonNode[] in(JsonNode tree) {
        JsonNode[] out = new JsonNode[size];
        if (size > 0) {
            fromTree(root, tree, out);
        }
        return out;
    }

    /**
     * The value at each path in the object whose bytes are {@code raw}; null where it is absent or
     * JSON null. Only the values found are read as trees, and the walk stops once every path is
     * settled. The span must be one the parser's strict scan accepted (as every lean event's is):
     * the walk trusts its grammar and only finds where values end.
     */
    public JsonNode[] in(EdgeRequest.RawJson raw) {
        if (!ascii) {
            return in(raw.tree());
        }
        JsonNode[] out = new JsonNode[size];
        if (size == 0) {
            return out;
        }
        Walk walk = new Walk(raw.body(), raw.start(), raw.end(), out);
        if (!walk.value(root)) {
            // A key with an escape, which names compared byte by byte would miss: read the tree.
            return in(raw.tree());
        }
        return out;
    }

    private static void fromTree(Step step, JsonNode node, JsonNode[] out) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return;
        }
        for (int end : step.ends) {
            out[end] = node;
        }
        for (int i = 0; i < step.names.length; i++) {
            fromTree(step.steps[i], node.isArray() ? (step.indexes[i] < 0 ? null : node.get(step.indexes[i]))
                    : node.get(step.names[i]), out);
        }
    }

    /** One walk over trusted bytes, filling {@code out}. */
    private final class Walk {
        private final byte[] b;
        private final int end;
        private final JsonNode[] out;
        private int pos;
        /** Paths whose value is known (found, or known absent). */
        private int settled;

        Walk(byte[] body, int start, int end, JsonNode[] out) {
            this.b = body;
            this.pos = start;
            this.end = end;
            this.out = out;
        }

        /** Reads the value that comes next, at {@code step}; false when a key has an escape. */
        boolean value(Step step) {
            int before = settled;
            int c = peek();
            if (!step.ends.isEmpty()) {
                // A path ends here: read this value whole, and any longer path within it from its tree.
                int start = pos;
                skip();
                fromTree(step, leaf(b, start, pos), out);
            } else if (c == '{') {
                pos++;
                while (settled < size && peek() != '}') {
                    if (b[pos] == ',') {
                        pos++;
                        peek();
                    }
                    int keyStart = ++pos;
                    while (b[pos] != '"') {
                        if (b[pos++] == '\\') {
                            return false;
                        }
                    }
                    int keyEnd = pos++;
                    peek();
                    pos++; // the colon
                    Step next = named(step, keyStart, keyEnd);
                    if (next == null) {
                        skip();
                    } else if (!value(next)) {
                        return false;
                    }
                }
                pos++;
            } else if (c == '[' && step.hasIndexes) {
                pos++;
                for (int index = 0; settled < size && peek() != ']'; index++) {
                    if (b[pos] == ',') {
                        pos++;
                        peek();
                    }
                    Step next = null;
                    for (int i = 0; i < step.indexes.length && next == null; i++) {
                        next = step.indexes[i] == index ? step.steps[i] : null;
                    }
                    if (next == null) {
                        skip();
                    } else if (!value(next)) {
                        return false;
                    }
                }
                pos++;
            } else {
                skip();
            }
            // Whatever the value held, every path through it is settled now.
            settled = before + step.below;
            return true;
        }

        private Step named(Step step, int from, int to) {
            String[] names = step.names;
            for (int n = 0; n < names.length; n++) {
                String name = names[n];
                if (name.length() == to - from && spells(from, name)) {
                    return step.steps[n];
                }
            }
            return null;
        }

        private boolean spells(int from, String name) {
            for (int i = 0; i < name.length(); i++) {
                if (b[from + i] != name.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private int peek() {
            while (pos < end && (b[pos] == ' ' || b[pos] == '\n' || b[pos] == '\r' || b[pos] == '\t')) {
                pos++;
            }
            return pos < end ? b[pos] : -1;
        }

        /** Past the value that comes next. */
        private void skip() {
            int c = peek();
            if (c == '"') {
                pos = closingQuote(pos + 1) + 1;
                return;
            }
            if (c != '{' && c != '[') {
                while (pos < end && !isDelimiter(b[pos])) {
                    pos++;
                }
                return;
            }
            int depth = 0;
            while (pos < end) {
                byte x = b[pos];
                if (x == '"') {
                    pos = closingQuote(pos + 1);
                } else if (x == '{' || x == '[') {
                    depth++;
                } else if ((x == '}' || x == ']') && --depth == 0) {
                    pos++;
                    return;
                }
                pos++;
            }
        }

        private int closingQuote(int i) {
            while (b[i] != '"') {
                i += b[i] == '\\' ? 2 : 1;
            }
            return i;
        }
    }

    /** A value's tree; a string without escapes is made directly, as the mapper would make it. */
    private static JsonNode leaf(byte[] body, int start, int end) {
        if (body[start] == '"') {
            boolean plain = true;
            for (int i = start + 1; i < end - 1 && plain; i++) {
                plain = body[i] != '\\';
            }
            if (plain) {
                return TextNode.valueOf(new String(body, start + 1, end - start - 2, StandardCharsets.UTF_8));
            }
        }
        try {
            return EdgeJson.MAPPER.readTree(body, start, end - start);
        } catch (IOException e) {
            throw new UncheckedIOException("an accepted value could not be read again", e);
        }
    }

    private static boolean isDelimiter(byte x) {
        return x == ',' || x == '}' || x == ']' || x == ' ' || x == '\n' || x == '\r' || x == '\t';
    }

    private static boolean isIndex(String step) {
        if (step.isEmpty() || step.length() > 9) {
            return false;
        }
        for (int i = 0; i < step.length(); i++) {
            if (step.charAt(i) < '0' || step.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
