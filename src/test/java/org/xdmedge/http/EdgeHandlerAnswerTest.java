package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.xdmedge.protocol.EdgeJson;

/** Collect's answer written without Jackson must be exactly what Jackson writes, or not be written. */
class EdgeHandlerAnswerTest {
    @Test
    void aRequestIdOnlyBodyIsTheBytesJacksonWrites() throws Exception {
        for (String id : new String[] {"0b6a2c8e-1f0e-4d7a-9b1c-3f6c2d9e8a71", "caller.id:42_x-y", "a"}) {
            ObjectNode body = EdgeJson.MAPPER.createObjectNode().put("requestId", id);
            assertThat(new String(EdgeHandler.requestIdOnly(body), StandardCharsets.UTF_8))
                    .isEqualTo(EdgeJson.MAPPER.writeValueAsString(body));
        }
    }

    @Test
    void anythingElseIsLeftToJackson() {
        assertThat(EdgeHandler.requestIdOnly(EdgeJson.MAPPER.createObjectNode().put("requestId", "a\"b"))).isNull();
        assertThat(EdgeHandler.requestIdOnly(EdgeJson.MAPPER.createObjectNode().put("requestId", "\u00e9"))).isNull();
        assertThat(EdgeHandler.requestIdOnly(EdgeJson.MAPPER.createObjectNode().put("requestId", "a\\b"))).isNull();
        assertThat(EdgeHandler.requestIdOnly(EdgeJson.MAPPER.createObjectNode().put("requestId", 7))).isNull();
        assertThat(EdgeHandler.requestIdOnly(EdgeJson.MAPPER.createObjectNode().put("requestId", "a").put("x", 1))).isNull();
        assertThat(EdgeHandler.requestIdOnly(EdgeJson.MAPPER.createObjectNode())).isNull();
    }
}
