package org.xdmedge.protocol;

/** The endpoints of spec §1: an action under a protocol version. */
public enum EdgeAction {
    V2_INTERACT("v2", "interact"),
    V2_COLLECT("v2", "collect"),
    V1_INTERACT("v1", "interact"),
    V1_COLLECT("v1", "collect"),
    V1_SET_CONSENT("v1", "privacy/set-consent"),
    V1_IDENTITY_ACQUIRE("v1", "identity/acquire");

    private final String version;
    private final String action;

    EdgeAction(String version, String action) {
        this.version = version;
        this.action = action;
    }

    public String version() { return version; }

    public String action() { return action; }

    /** Interact-style calls answer with handles and resolve the browser/app identity. */
    public boolean interactive() { return this != V2_COLLECT && this != V1_COLLECT; }

    public boolean collect() { return this == V2_COLLECT || this == V1_COLLECT; }

    static EdgeAction find(String version, String action) {
        for (EdgeAction a : values()) {
            if (a.version.equals(version) && a.action.equals(action)) {
                return a;
            }
        }
        return null;
    }
}
