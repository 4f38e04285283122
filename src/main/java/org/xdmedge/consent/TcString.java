package org.xdmedge.consent;

import java.time.Instant;
import java.util.BitSet;
import java.util.Set;

/**
 * The core segment of an IAB TCF 2.x Transparency and Consent string, decoded. Purpose and vendor
 * numbers are 1-based, as in the IAB specification.
 *
 * @param created when the string was first created (the string stores deciseconds)
 * @param consentLanguage two upper-case letters, e.g. {@code EN}
 * @param purposesConsent the purposes (1..24) the user consented to
 * @param purposesLegitimateInterest the purposes (1..24) whose legitimate interest was disclosed
 * @param publisherCountryCode two upper-case letters
 * @param maxVendorId the highest vendor id the vendor consent section covers
 * @param vendorConsents bit {@code v} is set when vendor {@code v} has consent
 * @param rangeEncoded whether the vendor consent section used range encoding (else a bit field)
 */
public record TcString(int version, Instant created, Instant lastUpdated, int cmpId, int cmpVersion,
                       int consentScreen, String consentLanguage, int vendorListVersion, int policyVersion,
                       boolean serviceSpecific, boolean useNonStandardTexts, Set<Integer> specialFeatureOptIns,
                       Set<Integer> purposesConsent, Set<Integer> purposesLegitimateInterest,
                       boolean purposeOneTreatment, String publisherCountryCode, int maxVendorId,
                       BitSet vendorConsents, boolean rangeEncoded) {
    public TcString {
        specialFeatureOptIns = Set.copyOf(specialFeatureOptIns);
        purposesConsent = Set.copyOf(purposesConsent);
        purposesLegitimateInterest = Set.copyOf(purposesLegitimateInterest);
        vendorConsents = (BitSet) vendorConsents.clone();
    }

    public boolean purposeConsent(int purpose) {
        return purposesConsent.contains(purpose);
    }

    public boolean vendorConsent(int vendorId) {
        return vendorId >= 1 && vendorId <= maxVendorId && vendorConsents.get(vendorId);
    }

    @Override
    public BitSet vendorConsents() {
        return (BitSet) vendorConsents.clone();
    }
}
