package org.xdmedge.config;

/** The configuration cannot be used; the message names the key and line. Start-up stops on it. */
public class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
