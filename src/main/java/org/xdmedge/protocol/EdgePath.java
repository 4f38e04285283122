package org.xdmedge.protocol;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The path grammar of spec §1: {@code /{base}[/{locationHint}][/va]/{version}/{action}}, plus the
 * {@code /v2/interact} alias without base used by some server-to-server callers.
 */
public final class EdgePath {
    public static final Set<String> KNOWN_HINTS = Set.of("or2", "va6", "irl1", "ind1", "jpn3", "sgp3", "aus3");
    private static final Pattern TARGET_HINT = Pattern.compile("t\\d{1,6}");
    private static final Set<String> BASES = Set.of("ee", "ee-pre-prd");

    /** What a path resolves to. */
    public sealed interface Match permits Route, UnknownHint, NoRoute {}

    /** A served endpoint; {@code locationHint} is null when the path carried none. */
    public record Route(EdgeAction action, String locationHint) implements Match {}

    /** A location-hint segment we do not know: answered 404 with an empty body. */
    public record UnknownHint(String hint) implements Match {}

    /** Anything else (media paths, typos). */
    public record NoRoute() implements Match {}

    private EdgePath() {}

    /**
     * The routes of paths seen before: nearly every request names one of a few paths, and splitting
     * each anew would repeat the same work on every request. Bounded, since clients choose the paths;
     * routes only, so no unknown path takes a place.
     */
    private static final int KNOWN_PATHS = 1024;
    private static final ConcurrentHashMap<String, Route> ROUTES = new ConcurrentHashMap<>();

    public static Match parse(String path) {
        Route known = path == null ? null : ROUTES.get(path);
        if (known != null) {
            return known;
        }
        Match match = resolve(path);
        if (match instanceof Route route && ROUTES.size() < KNOWN_PATHS) {
            ROUTES.putIfAbsent(path, route);
        }
        return match;
    }

    private static Match resolve(String path) {
        if (path == null || !path.startsWith("/")) {
            return new NoRoute();
        }
        String[] segments = path.substring(1).split("/", -1);
        int i = 0;
        if (segments.length > 0 && BASES.contains(segments[0])) {
            i++;
        } else if (segments.length == 0 || !segments[0].startsWith("v")) {
            return new NoRoute();
        }
        String hint = null;
        int rest = segments.length - i;
        // version + action is 2 or 3 segments; anything before it is a hint (and /va/).
        int actionSegments = rest >= 3 && isActionGroup(segments[segments.length - 2]) ? 3 : 2;
        int prefix = rest - actionSegments;
        if (prefix < 0 || prefix > 2 || i == 0 && prefix > 0) {
            return new NoRoute();
        }
        if (prefix >= 1) {
            String first = segments[i];
            if (prefix == 1 && first.equals("va") || prefix == 2 && segments[i + 1].equals("va")) {
                return new NoRoute(); // media paths are out of scope
            }
            if (prefix == 2) {
                return new NoRoute();
            }
            if (!isKnownHint(first)) {
                return new UnknownHint(first);
            }
            hint = first;
            i++;
        }
        String version = segments[i];
        String action = String.join("/", Arrays.copyOfRange(segments, i + 1, segments.length));
        EdgeAction found = EdgeAction.find(version, action);
        return found == null ? new NoRoute() : new Route(found, hint);
    }

    private static boolean isActionGroup(String segment) {
        return segment.equals("privacy") || segment.equals("identity");
    }

    public static boolean isKnownHint(String hint) {
        return KNOWN_HINTS.contains(hint) || TARGET_HINT.matcher(hint).matches();
    }
}
