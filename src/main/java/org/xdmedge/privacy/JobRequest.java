package org.xdmedge.privacy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.xdmedge.protocol.EdgeJson;

/**
 * A {@code POST /privacy/jobs} body as Adobe's Privacy Service shapes it: {@code companyContexts
 * [{namespace: "imsOrgID", value}]}, {@code users[{key, action: ["access"|"delete"], userIDs
 * [{namespace, value, type}]}]}, {@code regulation}. One job per user and identity.
 */
public record JobRequest(String orgId, String regulation, List<User> users) {
    private static final Pattern ORG_ID = Pattern.compile("[A-Za-z0-9]{1,64}@AdobeOrg");
    static final int MAX_USERS = 1000;

    /** One user's identity and what is asked for it. */
    public record User(String key, String action, String namespace, String value) {}

    /** A body that is not a job: names the field. */
    public static final class Malformed extends Exception {
        private final String field;

        Malformed(String field, String why) {
            super(field + " " + why);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    public static JobRequest parse(byte[] body) throws Malformed {
        JsonNode root;
        try {
            root = EdgeJson.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new Malformed("body", "is not JSON");
        }
        if (root == null || !root.isObject()) {
            throw new Malformed("body", "must be a JSON object");
        }
        JsonNode contexts = root.path("companyContexts");
        String org = null;
        if (!contexts.isArray() || contexts.isEmpty()) {
            throw new Malformed("companyContexts", "must be a non-empty array");
        }
        for (int i = 0; i < contexts.size(); i++) {
            JsonNode c = contexts.get(i);
            if ("imsOrgID".equals(c.path("namespace").asText(null))) {
                String value = c.path("value").asText(null);
                if (value == null || !ORG_ID.matcher(value).matches()) {
                    throw new Malformed("companyContexts[" + i + "].value", "must be an organization id (…@AdobeOrg)");
                }
                org = value;
            }
        }
        if (org == null) {
            throw new Malformed("companyContexts", "must hold {\"namespace\": \"imsOrgID\", \"value\": …}");
        }
        JsonNode regulation = root.path("regulation");
        if (!regulation.isTextual() || regulation.asText().isBlank()) {
            throw new Malformed("regulation", "must be a string such as \"gdpr\" or \"ccpa\"");
        }
        JsonNode users = root.path("users");
        if (!users.isArray() || users.isEmpty() || users.size() > MAX_USERS) {
            throw new Malformed("users", "must be an array of 1 to " + MAX_USERS + " users");
        }
        List<User> out = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            String at = "users[" + i + "]";
            JsonNode u = users.get(i);
            String key = u.path("key").isTextual() ? u.path("key").asText() : null;
            if (key == null) {
                throw new Malformed(at + ".key", "must be a string");
            }
            JsonNode actions = u.path("action");
            if (!actions.isArray() || actions.size() != 1
                    || !("access".equals(actions.get(0).asText(null)) || "delete".equals(actions.get(0).asText(null)))) {
                throw new Malformed(at + ".action", "must be [\"access\"] or [\"delete\"]");
            }
            JsonNode ids = u.path("userIDs");
            if (!ids.isArray() || ids.isEmpty()) {
                throw new Malformed(at + ".userIDs", "must be a non-empty array");
            }
            for (int j = 0; j < ids.size(); j++) {
                String idAt = at + ".userIDs[" + j + "]";
                JsonNode id = ids.get(j);
                String ns = id.path("namespace").isTextual() ? id.path("namespace").asText() : null;
                String value = id.path("value").isTextual() ? id.path("value").asText() : null;
                if (ns == null || ns.isEmpty() || ns.length() > 128) {
                    throw new Malformed(idAt + ".namespace", "must be an identity namespace such as ECID or Email_LC_SHA256");
                }
                if (value == null || value.isEmpty() || value.length() > 1024) {
                    throw new Malformed(idAt + ".value", "must be a non-empty string");
                }
                JsonNode type = id.path("type");
                if (!type.isMissingNode() && !(type.isTextual() && ("standard".equals(type.asText())
                        || "custom".equals(type.asText())))) {
                    throw new Malformed(idAt + ".type", "must be \"standard\" or \"custom\"");
                }
                out.add(new User(key, actions.get(0).asText(), ns, value));
            }
        }
        return new JobRequest(org, regulation.asText(), out);
    }
}
