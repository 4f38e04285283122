package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The event type and first ECID, read without a tree, wherever they stand in the event. */
class EventFieldsTest {
    private static EventFields of(String json, boolean wantEcid) {
        return EventFields.of(json.getBytes(StandardCharsets.UTF_8), true, wantEcid);
    }

    @Test
    void readsTheTypeAndTheFirstEcidPastOtherFields() {
        EventFields f = of("{\"data\":{\"xdm\":{\"eventType\":\"not this\"}},\"xdm\":{\"web\":{\"a\":[1,{\"eventType\":\"x\"}]},"
                + "\"identityMap\":{\"FPID\":[{\"id\":\"f\"}],\"ECID\":[{\"primary\":true,\"id\":\"e1\",\"x\":{}},{\"id\":\"e2\"}],"
                + "\"Email\":[{\"id\":\"m\"}]},\"eventType\":\"commerce.purchases\"}}", true);
        assertThat(f).isEqualTo(new EventFields("commerce.purchases", "e1"));
    }

    @Test
    void leavesOutTheEcidWhenNotAskedOrNotAString() {
        String json = "{\"xdm\":{\"eventType\":\"t\",\"identityMap\":{\"ECID\":[{\"id\":\"e1\"}]}}}";
        assertThat(of(json, false)).isEqualTo(new EventFields("t", null));
        assertThat(of("{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":7}]}}}", true)).isEqualTo(new EventFields(null, null));
        assertThat(of("{\"xdm\":{\"identityMap\":{\"ECID\":[[{\"id\":\"e\"}],{\"id\":\"e2\"}]}}}", true).firstEcid()).isNull();
        assertThat(of("{\"xdm\":{\"identityMap\":{\"ECID\":{\"id\":\"e\"}},\"eventType\":\"t\"}}", true))
                .isEqualTo(new EventFields("t", null));
    }

    @Test
    void readsOnlyWhatIsWanted() {
        String json = "{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"e1\"}]},\"eventType\":\"t\"}}";
        assertThat(EventFields.of(json.getBytes(StandardCharsets.UTF_8), false, true)).isEqualTo(new EventFields(null, "e1"));
        assertThat(EventFields.of(json.getBytes(StandardCharsets.UTF_8), true, false)).isEqualTo(new EventFields("t", null));
    }

    @Test
    void anEventWithoutXdmOrNotJsonHasNeither() {
        assertThat(of("{\"data\":{}}", true)).isEqualTo(new EventFields(null, null));
        assertThat(of("not json", true)).isEqualTo(new EventFields(null, null));
        assertThat(of("{\"xdm\":{\"eventType\":null}}", true)).isEqualTo(new EventFields(null, null));
    }
}
