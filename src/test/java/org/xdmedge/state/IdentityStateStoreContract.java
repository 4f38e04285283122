package org.xdmedge.state;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every {@link IdentityStateStore} does; run against SQLite and Redis. */
public abstract class IdentityStateStoreContract {
    protected static final String ORG = "53A16ACB5CC1D3760A495C99@AdobeOrg";
    protected static final String OTHER_ORG = "AAAAAAAAAAAAAAAAAAAAAAAA@AdobeOrg";
    protected IdentityStateStore store;

    /** A fresh, empty store. */
    protected abstract IdentityStateStore open() throws Exception;

    /** The same state seen through a second handle, as another node (or a restarted one) sees it. */
    protected abstract IdentityStateStore reopen() throws Exception;

    @BeforeEach
    public void openStore() throws Exception {
        store = open();
    }

    @AfterEach
    public void closeStore() {
        store.close();
    }

    @Test
    public void unknownKeyIsEmpty() {
        assertThat(store.get(ORG, "ecid-1", "consent")).isEmpty();
    }

    @Test
    public void putThenGetAndOverwrite() {
        store.put(ORG, "ecid-1", "consent", "{\"collect\":\"y\"}");
        assertThat(store.get(ORG, "ecid-1", "consent")).contains("{\"collect\":\"y\"}");
        store.put(ORG, "ecid-1", "consent", "{\"collect\":\"n\"}");
        assertThat(store.get(ORG, "ecid-1", "consent")).contains("{\"collect\":\"n\"}");
    }

    @Test
    public void keysIdentitiesAndOrganizationsAreSeparate() {
        store.put(ORG, "ecid-1", "consent", "a");
        store.put(ORG, "ecid-1", "other", "b");
        store.put(ORG, "ecid-2", "consent", "c");
        store.put(OTHER_ORG, "ecid-1", "consent", "d");
        assertThat(store.get(ORG, "ecid-1", "consent")).contains("a");
        assertThat(store.get(ORG, "ecid-1", "other")).contains("b");
        assertThat(store.get(ORG, "ecid-2", "consent")).contains("c");
        assertThat(store.get(OTHER_ORG, "ecid-1", "consent")).contains("d");
        assertThat(store.get(OTHER_ORG, "ecid-2", "consent")).isEmpty();
    }

    @Test
    public void deleteRemovesEveryKeyOfOneIdentityOnly() throws Exception {
        store.put(ORG, "ecid-1", "consent", "a");
        store.put(ORG, "ecid-1", "other", "b");
        store.put(ORG, "ecid-2", "consent", "c");
        store.put(OTHER_ORG, "ecid-1", "consent", "d");
        store.delete(ORG, "ecid-1");
        assertThat(store.get(ORG, "ecid-1", "consent")).isEmpty();
        assertThat(store.get(ORG, "ecid-1", "other")).isEmpty();
        assertThat(store.get(ORG, "ecid-2", "consent")).contains("c");
        assertThat(store.get(OTHER_ORG, "ecid-1", "consent")).contains("d");
        try (IdentityStateStore other = reopen()) {
            assertThat(other.get(ORG, "ecid-1", "consent")).isEmpty();
        }
        store.delete(ORG, "never-stored"); // nothing to delete is no error
    }

    @Test
    public void stateIsSharedWithAnotherHandle() throws Exception {
        store.put(ORG, "ecid-9", "consent", "set through A");
        try (IdentityStateStore other = reopen()) {
            assertThat(other.get(ORG, "ecid-9", "consent")).contains("set through A");
            other.put(ORG, "ecid-9", "consent", "changed through B");
        }
        assertThat(store.get(ORG, "ecid-9", "consent")).contains("changed through B");
    }

    @Test
    public void valuesKeepEveryCharacter() {
        String value = "{\"é\":\"\\u0000 ✓ \n tab\t\"}";
        store.put(ORG, "ecid-1", "consent", value);
        assertThat(store.get(ORG, "ecid-1", "consent")).contains(value);
    }
}
