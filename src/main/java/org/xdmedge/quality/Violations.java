package org.xdmedge.quality;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.List;

/**
 * The violations of one invalid event, with their JSON ({@code [{"path", "keyword", "message"}]})
 * made on first use and then shared by its quarantine record and its {@code xdm-edge:event}
 * receipt. Used by one request at a time; the JSON must not be changed.
 */
public final class Violations {
    private final List<Violation> list;
    private ArrayNode json;

    public Violations(List<Violation> list) {
        this.list = List.copyOf(list);
    }

    public List<Violation> list() {
        return list;
    }

    public ArrayNode json() {
        if (json == null) {
            json = Quarantine.violationsJson(list);
        }
        return json;
    }
}
