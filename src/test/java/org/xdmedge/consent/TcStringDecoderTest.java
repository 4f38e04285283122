package org.xdmedge.consent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TcStringDecoderTest {

    @Test
    void decodesEveryCoreFieldOfABitFieldString() {
        String s = TcStrings.bitField(Set.of(1, 3, 10, 24), 600, Set.of(1, 565, 600));
        TcString tc = TcStringDecoder.decode(s);
        assertThat(tc.version()).isEqualTo(2);
        assertThat(tc.created()).isEqualTo(TcStrings.CREATED);
        assertThat(tc.lastUpdated()).isEqualTo(TcStrings.UPDATED);
        assertThat(tc.cmpId()).isEqualTo(7);
        assertThat(tc.cmpVersion()).isEqualTo(3);
        assertThat(tc.consentScreen()).isEqualTo(1);
        assertThat(tc.consentLanguage()).isEqualTo("FR");
        assertThat(tc.vendorListVersion()).isEqualTo(48);
        assertThat(tc.policyVersion()).isEqualTo(2);
        assertThat(tc.serviceSpecific()).isTrue();
        assertThat(tc.useNonStandardTexts()).isFalse();
        assertThat(tc.specialFeatureOptIns()).containsExactlyInAnyOrder(1, 3);
        assertThat(tc.purposesConsent()).containsExactlyInAnyOrder(1, 3, 10, 24);
        assertThat(tc.purposesLegitimateInterest()).containsExactlyInAnyOrder(2, 7);
        assertThat(tc.purposeOneTreatment()).isFalse();
        assertThat(tc.publisherCountryCode()).isEqualTo("DE");
        assertThat(tc.maxVendorId()).isEqualTo(600);
        assertThat(tc.rangeEncoded()).isFalse();
        assertThat(tc.vendorConsent(1)).isTrue();
        assertThat(tc.vendorConsent(565)).isTrue();
        assertThat(tc.vendorConsent(600)).isTrue();
        assertThat(tc.vendorConsent(564)).isFalse();
        assertThat(tc.vendorConsent(601)).isFalse();
        assertThat(tc.vendorConsents().cardinality()).isEqualTo(3);
    }

    @Test
    void decodesRangeEncodedVendors() {
        String s = TcStrings.ranges(Set.of(1), 2000, List.of(new TcStrings.Range(10, 20),
                new TcStrings.Range(565, 565), new TcStrings.Range(1999, 2000)));
        TcString tc = TcStringDecoder.decode(s);
        assertThat(tc.rangeEncoded()).isTrue();
        assertThat(tc.maxVendorId()).isEqualTo(2000);
        assertThat(tc.vendorConsents().cardinality()).isEqualTo(11 + 1 + 2);
        assertThat(tc.vendorConsent(10)).isTrue();
        assertThat(tc.vendorConsent(20)).isTrue();
        assertThat(tc.vendorConsent(21)).isFalse();
        assertThat(tc.vendorConsent(565)).isTrue();
        assertThat(tc.vendorConsent(566)).isFalse();
        assertThat(tc.vendorConsent(2000)).isTrue();
    }

    @Test
    void ignoresSegmentsAfterTheCoreAndAcceptsStandardBase64Characters() {
        String core = TcStrings.bitField(Set.of(1), 565, Set.of(565));
        assertThat(TcStringDecoder.decode(core + ".YAAAAAAAAAAA").vendorConsent(565)).isTrue();
        String standard = core.replace('-', '+').replace('_', '/');
        assertThat(TcStringDecoder.decode(standard).purposeConsent(1)).isTrue();
    }

    /**
     * Public strings from Adobe's Web SDK tests (adobe/alloy, test/functional/helpers/constants/consent.js),
     * whose names document what they grant: purpose 1 and Adobe's vendor 565, or not.
     */
    @Test
    void decodesThePublicStringsOfTheWebSdkTestsAsTheirNamesDocument() {
        TcString in = TcStringDecoder.decode("CO052l-O052l-DGAMBFRACBgAIBAAAAAAIYgEawAQEagAAAA");
        assertThat(in.purposeConsent(1)).isTrue();
        assertThat(in.purposeConsent(10)).isTrue();
        assertThat(in.vendorConsent(565)).isTrue();

        TcString noPurposeOne = TcStringDecoder.decode("CO052oTO052oTDGAMBFRACBgAABAAAAAAIYgEawAQEagAAAA");
        assertThat(noPurposeOne.purposeConsent(1)).isFalse();
        assertThat(noPurposeOne.vendorConsent(565)).isTrue();

        TcString noPurposeTen = TcStringDecoder.decode("CO052kIO052kIDGAMBFRACBgAIAAAAAAAIYgEawAQEagAAAA");
        assertThat(noPurposeTen.purposeConsent(1)).isTrue();
        assertThat(noPurposeTen.purposeConsent(10)).isFalse();
        assertThat(noPurposeTen.vendorConsent(565)).isTrue();

        TcString noAdobe = TcStringDecoder.decode("CO052qdO052qdDGAMBFRACBgAIBAAAAAAIYgAAoAAAAA");
        assertThat(noAdobe.purposeConsent(1)).isTrue();
        assertThat(noAdobe.vendorConsent(565)).isFalse();
        assertThat(noAdobe.version()).isEqualTo(2);
    }

    @Test
    void refusesWhatIsNotATcfTwoString() {
        assertThatThrownBy(() -> TcStringDecoder.decode(""))
                .isInstanceOf(TcStringDecoder.InvalidTcStringException.class);
        assertThatThrownBy(() -> TcStringDecoder.decode("not base64 !!"))
                .isInstanceOf(TcStringDecoder.InvalidTcStringException.class).hasMessageContaining("base64");
        assertThatThrownBy(() -> TcStringDecoder.decode(TcStrings.withVersion(1, Set.of(1))))
                .isInstanceOf(TcStringDecoder.InvalidTcStringException.class).hasMessageContaining("version 1");
        String full = TcStrings.bitField(Set.of(1), 565, Set.of(565));
        assertThatThrownBy(() -> TcStringDecoder.decode(full.substring(0, 30)))
                .isInstanceOf(TcStringDecoder.InvalidTcStringException.class).hasMessageContaining("ends early");
        String badRange = TcStrings.ranges(Set.of(1), 100, List.of(new TcStrings.Range(50, 200)));
        assertThatThrownBy(() -> TcStringDecoder.decode(badRange))
                .isInstanceOf(TcStringDecoder.InvalidTcStringException.class).hasMessageContaining("outside");
    }
}
