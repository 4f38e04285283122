package org.xdmedge.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EdgePathTest {
    @Test
    void servesEveryEndpointWithAndWithoutLocationHint() {
        assertThat(EdgePath.parse("/ee/v2/interact")).isEqualTo(new EdgePath.Route(EdgeAction.V2_INTERACT, null));
        assertThat(EdgePath.parse("/ee/v2/collect")).isEqualTo(new EdgePath.Route(EdgeAction.V2_COLLECT, null));
        assertThat(EdgePath.parse("/ee/v1/interact")).isEqualTo(new EdgePath.Route(EdgeAction.V1_INTERACT, null));
        assertThat(EdgePath.parse("/ee/v1/collect")).isEqualTo(new EdgePath.Route(EdgeAction.V1_COLLECT, null));
        assertThat(EdgePath.parse("/ee/or2/v1/interact")).isEqualTo(new EdgePath.Route(EdgeAction.V1_INTERACT, "or2"));
        assertThat(EdgePath.parse("/ee/t35/v1/interact")).isEqualTo(new EdgePath.Route(EdgeAction.V1_INTERACT, "t35"));
        assertThat(EdgePath.parse("/ee/irl1/v1/privacy/set-consent"))
                .isEqualTo(new EdgePath.Route(EdgeAction.V1_SET_CONSENT, "irl1"));
        assertThat(EdgePath.parse("/ee/v1/identity/acquire")).isEqualTo(new EdgePath.Route(EdgeAction.V1_IDENTITY_ACQUIRE, null));
        assertThat(EdgePath.parse("/ee-pre-prd/v2/collect")).isEqualTo(new EdgePath.Route(EdgeAction.V2_COLLECT, null));
        assertThat(EdgePath.parse("/v2/interact")).isEqualTo(new EdgePath.Route(EdgeAction.V2_INTERACT, null));
    }

    @Test
    void unknownHintIsItsOwnCase() {
        assertThat(EdgePath.parse("/ee/zz9/v2/collect")).isEqualTo(new EdgePath.UnknownHint("zz9"));
        assertThat(EdgePath.parse("/ee/tx/v1/interact")).isEqualTo(new EdgePath.UnknownHint("tx"));
    }

    @Test
    void mediaPathsAndTyposAreNotRoutes() {
        assertThat(EdgePath.parse("/ee/va/v1/sessionStart")).isInstanceOf(EdgePath.NoRoute.class);
        assertThat(EdgePath.parse("/ee/or2/va/v1/interact")).isInstanceOf(EdgePath.NoRoute.class);
        assertThat(EdgePath.parse("/ee/v3/interact")).isInstanceOf(EdgePath.NoRoute.class);
        assertThat(EdgePath.parse("/ee/v2/interactx")).isInstanceOf(EdgePath.NoRoute.class);
        assertThat(EdgePath.parse("/")).isInstanceOf(EdgePath.NoRoute.class);
        assertThat(EdgePath.parse("/or2/v2/collect")).isInstanceOf(EdgePath.NoRoute.class);
    }

    @Test
    void pathsSeenBeforeAndPathsPastTheRememberedOnesResolveAlike() {
        for (int round = 0; round < 2; round++) {
            for (int n = 0; n < 3000; n++) { // more hints than the routes kept
                assertThat(EdgePath.parse("/ee/t" + n + "/v2/collect")).isEqualTo(new EdgePath.Route(EdgeAction.V2_COLLECT, "t" + n));
                assertThat(EdgePath.parse("/ee/x" + n + "/v2/collect")).isEqualTo(new EdgePath.UnknownHint("x" + n));
            }
            assertThat(EdgePath.parse("/ee/v2/collect")).isEqualTo(new EdgePath.Route(EdgeAction.V2_COLLECT, null));
            assertThat(EdgePath.parse("/ee/v2/interactx")).isInstanceOf(EdgePath.NoRoute.class);
        }
    }
}
