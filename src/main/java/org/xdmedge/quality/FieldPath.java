package org.xdmedge.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A field of an event as mapping rules name it: {@code xdm.} or {@code data.} followed by member
 * names separated by dots, each optionally followed by array indexes ({@code identityMap.Email[0].id}).
 */
public final class FieldPath {
    /** The root a path starts from. */
    public enum Root { XDM, DATA }

    /** How many array slots a write may create before the index: guards against {@code items[1000000]}. */
    static final int MAX_INDEX = 1000;

    private final String text;
    private final Root root;
    /** Each element is a String (member name) or an Integer (array index). */
    private final List<Object> steps;

    private FieldPath(String text, Root root, List<Object> steps) {
        this.text = text;
        this.root = root;
        this.steps = steps;
    }

    /** Reads {@code text}; throws IllegalArgumentException saying what is wrong with it. */
    public static FieldPath parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("is empty; write a path such as xdm.web.webPageDetails.name");
        }
        Root root;
        String rest;
        if (text.startsWith("xdm.")) {
            root = Root.XDM;
            rest = text.substring(4);
        } else if (text.startsWith("data.")) {
            root = Root.DATA;
            rest = text.substring(5);
        } else {
            throw new IllegalArgumentException("'" + text + "' must start with xdm. or data.");
        }
        List<Object> steps = new ArrayList<>();
        int i = 0;
        while (i < rest.length()) {
            int end = i;
            while (end < rest.length() && rest.charAt(end) != '.' && rest.charAt(end) != '[') {
                end++;
            }
            if (end == i) {
                throw new IllegalArgumentException("'" + text + "' has an empty member name");
            }
            steps.add(rest.substring(i, end));
            i = end;
            while (i < rest.length() && rest.charAt(i) == '[') {
                int close = rest.indexOf(']', i);
                if (close < 0) {
                    throw new IllegalArgumentException("'" + text + "' has a '[' without ']'");
                }
                int index;
                try {
                    index = Integer.parseInt(rest.substring(i + 1, close));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("'" + text + "' has an array index that is not a number");
                }
                if (index < 0 || index > MAX_INDEX) {
                    throw new IllegalArgumentException("'" + text + "' has an array index outside 0.." + MAX_INDEX);
                }
                steps.add(index);
                i = close + 1;
            }
            if (i < rest.length()) {
                if (rest.charAt(i) != '.' || i == rest.length() - 1) {
                    throw new IllegalArgumentException("'" + text + "' has an unexpected '" + rest.charAt(i) + "'");
                }
                i++;
            }
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' names no field");
        }
        return new FieldPath(text, root, List.copyOf(steps));
    }

    public Root root() {
        return root;
    }

    /** The value at this path, or null when any step is missing (a JSON null is returned as null too). */
    public JsonNode get(JsonNode xdm, JsonNode data) {
        JsonNode node = root == Root.XDM ? xdm : data;
        for (Object step : steps) {
            if (node == null) {
                return null;
            }
            node = step instanceof Integer index ? (node.isArray() ? node.get(index) : null) : (node.isObject() ? node.get((String) step) : null);
        }
        return node == null || node.isNull() ? null : node;
    }

    /**
     * Sets the value at this path under {@code xdm}, making the objects and arrays on the way
     * (an array grows with empty objects up to the index). A step through a value of another
     * kind (a string where an object is needed) is refused: the event keeps what it sent.
     *
     * @return false when the path runs through a value that is not an object or array
     */
    public boolean set(ObjectNode xdm, JsonNode value) {
        if (root != Root.XDM) {
            throw new IllegalStateException("mapping writes xdm paths only");
        }
        JsonNode node = xdm;
        for (int s = 0; s < steps.size(); s++) {
            Object step = steps.get(s);
            boolean last = s == steps.size() - 1;
            Object next = last ? null : steps.get(s + 1);
            if (step instanceof Integer index) {
                if (!(node instanceof ArrayNode array)) {
                    return false;
                }
                while (array.size() <= index) {
                    array.add(last ? JsonNodeFactory.instance.nullNode() : container(next));
                }
                if (last) {
                    array.set(index, value);
                    return true;
                }
                JsonNode child = array.get(index);
                if (child == null || child.isNull()) {
                    child = container(next);
                    array.set(index, child);
                }
                node = child;
            } else {
                if (!(node instanceof ObjectNode object)) {
                    return false;
                }
                String name = (String) step;
                if (last) {
                    object.set(name, value);
                    return true;
                }
                JsonNode child = object.get(name);
                if (child == null || child.isNull()) {
                    child = container(next);
                    object.set(name, child);
                }
                node = child;
            }
        }
        return true;
    }

    private static JsonNode container(Object nextStep) {
        return nextStep instanceof Integer ? JsonNodeFactory.instance.arrayNode() : JsonNodeFactory.instance.objectNode();
    }

    @Override
    public String toString() {
        return text;
    }
}
