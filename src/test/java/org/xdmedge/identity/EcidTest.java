package org.xdmedge.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EcidTest {
    @Test
    void halvesAreNineteenZeroPaddedDigitsEach() {
        assertThat(Ecid.fromHalves(0, 0)).isEqualTo("0".repeat(38));
        assertThat(Ecid.fromHalves(Long.MAX_VALUE, 1)).isEqualTo("9223372036854775807" + "0000000000000000001");
        // The sign bit is dropped, so a negative half still fits 19 digits.
        assertThat(Ecid.fromHalves(-1L, Long.MIN_VALUE)).isEqualTo("9223372036854775807" + "0".repeat(19));
    }

    @Test
    void matchesDecimalFormattingForManyValues() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 10_000; i++) {
            long high = random.nextLong();
            long low = random.nextLong() >>> random.nextInt(64);
            assertThat(Ecid.fromHalves(high, low))
                    .isEqualTo(String.format("%019d%019d", high & Long.MAX_VALUE, low & Long.MAX_VALUE));
        }
    }

    @Test
    void mintedIdsAreValidAndDistinct() {
        String a = Ecid.mint();
        assertThat(Ecid.isValid(a)).isTrue();
        assertThat(Ecid.mint()).isNotEqualTo(a);
    }

    @Test
    void stateKeyNamesReplaceTheAtSignOfTheOrganization() {
        assertThat(StateKeys.name("53A16ACB5CC1D3760A495C99@AdobeOrg", StateKeys.IDENTITY))
                .isEqualTo("kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity");
        assertThat(StateKeys.name("noAtSign", StateKeys.CLUSTER)).isEqualTo("kndctr_noAtSign_cluster");
    }
}
