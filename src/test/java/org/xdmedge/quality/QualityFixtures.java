package org.xdmedge.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.testing.TestEdge;

/** The ExperienceEvent schema assembled from Adobe's public XDM definitions, and events for it. */
public final class QualityFixtures {
    static final String ORG = TestEdge.ORG;

    private QualityFixtures() {}

    /** The schema file in the test classpath (web details, commerce, environment, identity map, a tenant group). */
    public static Path schema() {
        try {
            return Path.of(QualityFixtures.class.getResource("/quality/web-commerce-event.schema.json").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A copy of the schema in {@code dir} in which the tenant's {@code campaign} must be an integer (a schema mistake). */
    public static Path schemaWithIntegerCampaign(Path dir) throws Exception {
        ObjectNode tree = (ObjectNode) EdgeJson.MAPPER.readTree(schema().toFile());
        ((ObjectNode) tree.at("/properties/_acme/properties/campaign")).put("type", "integer");
        Path file = dir.resolve("campaign-integer.schema.json");
        Files.write(file, EdgeJson.MAPPER.writeValueAsBytes(tree));
        return file;
    }

    /** A server event with a primary CRMID, the given xdm members and data. */
    public static String event(String id, String xdmMembers, String data) {
        return "{\"xdm\":{\"_id\":\"" + id + "\",\"timestamp\":\"2026-03-01T09:30:00Z\",\"eventType\":\"web.webpagedetails.pageViews\","
                + "\"identityMap\":{\"CRMID\":[{\"id\":\"user-1\",\"primary\":true}]}"
                + (xdmMembers.isEmpty() ? "" : "," + xdmMembers) + "}"
                + (data == null ? "" : ",\"data\":" + data) + "}";
    }

    public static String batch(String... events) {
        return "{\"events\":[" + String.join(",", events) + "]}";
    }

    static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    static JsonNode byEventId(List<JsonNode> lines, String id) {
        return lines.stream().filter(l -> l.get("eventId").asText().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no event " + id + " in " + lines));
    }
}
