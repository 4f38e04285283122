package org.xdmedge.forwarding;

/**
 * An event a destination did not take: {@code reason} is {@code rejected} (a 4xx other than 408 and
 * 429), {@code maxAttempts}, {@code maxAgeHours} or {@code retention} (deleted by retention before it
 * was sent); {@code status} the last HTTP status (0: none, the request failed), {@code error} the
 * last failure's text.
 */
public record DeadLetter(String destination, String reason, int status, String error, int attempts,
                         long deadLetteredAtMillis, long seq, byte[] eventRecord) {}
