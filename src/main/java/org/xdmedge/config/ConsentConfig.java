package org.xdmedge.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code datastreams[].consent}: what the datastream does before a visitor has recorded any consent,
 * and which IAB TCF vendor id stands for this edge when a TC string is decoded.
 *
 * @param defaultConsent {@code in} (collect until told otherwise) or {@code pending} (store nothing
 *                       until an explicit {@code in}); YAML key {@code default}
 * @param iabVendorId the vendor whose consent an IAB TCF 2.0 string must carry; Adobe's id 565 by default
 */
public record ConsentConfig(@JsonProperty("default") String defaultConsent,
                            Integer iabVendorId) {
    public static final String IN = "in";
    public static final String PENDING = "pending";
    /** Adobe's vendor id in the IAB Global Vendor List. */
    public static final int ADOBE_IAB_VENDOR_ID = 565;

    public ConsentConfig {
        defaultConsent = defaultConsent == null ? IN : defaultConsent;
        iabVendorId = iabVendorId == null ? ADOBE_IAB_VENDOR_ID : iabVendorId;
    }

    public static ConsentConfig defaults() {
        return new ConsentConfig(null, null);
    }
}
