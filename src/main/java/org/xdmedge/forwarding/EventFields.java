package org.xdmedge.forwarding;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import org.xdmedge.protocol.EdgeJson;

/**
 * What forwarding reads of a stored event's JSON: {@code xdm.eventType} and the first ECID of
 * {@code xdm.identityMap}. Read with the streaming parser, skipping everything else and stopping as
 * soon as what is wanted is read (alloy sends the identity map first): no tree is built for an event
 * on its way to a destination.
 */
record EventFields(String eventType, String firstEcid) {
    private static final EventFields NONE = new EventFields(null, null);

    /** The fields of {@code eventJson} ({@code {"xdm":...,"data":...}}), each only when wanted. */
    static EventFields of(byte[] eventJson, boolean wantType, boolean wantEcid) {
        try (JsonParser p = EdgeJson.MAPPER.getFactory().createParser(eventJson)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return NONE;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() == JsonToken.START_OBJECT && "xdm".equals(name)) {
                    return xdm(p, wantType, wantEcid);
                }
                p.skipChildren();
            }
            return NONE;
        } catch (IOException e) {
            return NONE;
        }
    }

    private static EventFields xdm(JsonParser p, boolean wantType, boolean wantEcid) throws IOException {
        String eventType = null;
        String ecid = null;
        boolean typeRead = !wantType;
        boolean ecidRead = !wantEcid;
        while (!(typeRead && ecidRead) && p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            if (wantType && "eventType".equals(name)) {
                eventType = value.isScalarValue() ? p.getValueAsString(null) : null;
                p.skipChildren();
                typeRead = true;
            } else if (wantEcid && "identityMap".equals(name) && value == JsonToken.START_OBJECT) {
                ecid = firstEcid(p);
                ecidRead = true;
            } else {
                p.skipChildren();
            }
        }
        return new EventFields(eventType, ecid);
    }

    /** In {@code identityMap} (its start read): {@code ECID[0].id} when a string; leaves the parser at the map's end. */
    private static String firstEcid(JsonParser p) throws IOException {
        String ecid = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String namespace = p.currentName();
            JsonToken value = p.nextToken();
            if ("ECID".equals(namespace) && value == JsonToken.START_ARRAY) {
                JsonToken first = p.nextToken();
                if (first == JsonToken.START_OBJECT) {
                    ecid = idOf(p);
                } else {
                    p.skipChildren();
                }
                if (first != JsonToken.END_ARRAY) {
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
        }
        return ecid;
    }

    /** In an identity object (its start read): its {@code id} when a string; leaves the parser at the object's end. */
    private static String idOf(JsonParser p) throws IOException {
        String id = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if ("id".equals(field) && value == JsonToken.VALUE_STRING) {
                id = p.getText();
            } else {
                p.skipChildren();
            }
        }
        return id;
    }
}
