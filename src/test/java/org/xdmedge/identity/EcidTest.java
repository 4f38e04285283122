package org.xdmedge.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.regex.Pattern;
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
        // Each half from its own random bytes: no half repeats, within an id or across ids.
        Set<String> halves = new HashSet<>();
        for (int i = 0; i < 2_000; i++) {
            String ecid = Ecid.mint();
            assertThat(Ecid.isValid(ecid)).isTrue();
            halves.add(ecid.substring(0, 19));
            halves.add(ecid.substring(19));
        }
        assertThat(halves).hasSize(4_000);
    }

    @Test
    void theHandWrittenFormatChecksAgreeWithTheirRegularExpressions() {
        Pattern ecid = Pattern.compile("[0-9]{38}");
        Pattern uuid = Pattern.compile(
                "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
        List<String> samples = new ArrayList<>(List.of("", "1", "0".repeat(37),
                "0".repeat(38), "0".repeat(39), "0".repeat(37) + "a", "0".repeat(37) + "\u0661", " " + "0".repeat(37),
                "5f1c0a2e-9b7d-4c3e-a1f2-b3c4d5e6f708", "5F1C0A2E-9b7d-4C3E-a1f2-B3C4D5E6F708",
                "5f1c0a2e-9b7d-4c3e-a1f2-b3c4d5e6f70g", "5f1c0a2e-9b7d-4c3e-a1f2-b3c4d5e6f7080",
                "5f1c0a2e+9b7d-4c3e-a1f2-b3c4d5e6f708", "5f1c0a2e9b7d-4c3e-a1f2-b3c4d5e6f708-",
                "5f1c0a2e-9b7d-4c3e-a1f2-b3c4d5e6f7\uff10\uff10"));
        Random random = new Random(7);
        String alphabet = "0123456789abcdefABCDEFg-";
        for (int i = 0; i < 20_000; i++) {
            char[] c = (i % 2 == 0 ? Ecid.mint() : UUID.randomUUID().toString()).toCharArray();
            c[random.nextInt(c.length)] = alphabet.charAt(random.nextInt(alphabet.length()));
            samples.add(new String(c));
        }
        for (String s : samples) {
            assertThat(Ecid.isValid(s)).as(s).isEqualTo(ecid.matcher(s).matches());
            assertThat(FpidSeeder.isUuid(s)).as(s).isEqualTo(uuid.matcher(s).matches());
        }
        assertThat(Ecid.isValid(null)).isFalse();
        assertThat(FpidSeeder.isUuid(null)).isFalse();
    }

    @Test
    void stateKeyNamesReplaceTheAtSignOfTheOrganization() {
        assertThat(StateKeys.name("53A16ACB5CC1D3760A495C99@AdobeOrg", StateKeys.IDENTITY))
                .isEqualTo("kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity");
        assertThat(StateKeys.name("noAtSign", StateKeys.CLUSTER)).isEqualTo("kndctr_noAtSign_cluster");
    }
}
