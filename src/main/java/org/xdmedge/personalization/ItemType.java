package org.xdmedge.personalization;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The kinds of content an experience holds, with the schema alloy and the Mobile SDKs know each by. */
public enum ItemType {
    DOM_ACTION("dom-action", "https://ns.adobe.com/personalization/dom-action"),
    HTML("html", "https://ns.adobe.com/personalization/html-content-item"),
    JSON("json", "https://ns.adobe.com/personalization/json-content-item"),
    REDIRECT("redirect", "https://ns.adobe.com/personalization/redirect-item");

    /** The Target DOM actions alloy applies (its dom-actions modules). */
    static final List<String> DOM_ACTIONS = List.of("setHtml", "setText", "setAttribute", "setImageSource", "setStyle",
            "appendHtml", "prependHtml", "replaceHtml", "insertBefore", "insertAfter", "remove", "move", "resize",
            "rearrange", "customCode", "click");
    /** How alloy places an html item that names a selector. */
    static final List<String> HTML_ACTIONS = List.of("setHtml", "appendHtml", "prependHtml", "replaceHtml",
            "insertBefore", "insertAfter", "customCode");

    private final String yamlName;
    private final String schema;

    ItemType(String yamlName, String schema) {
        this.yamlName = yamlName;
        this.schema = schema;
    }

    public String schema() {
        return schema;
    }

    static ItemType named(String name) {
        for (ItemType t : values()) {
            if (t.yamlName.equals(name)) {
                return t;
            }
        }
        return null;
    }

    static String names() {
        return Arrays.stream(values()).map(t -> t.yamlName).collect(Collectors.joining(", "));
    }
}
