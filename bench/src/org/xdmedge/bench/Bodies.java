package org.xdmedge.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes the request bodies of the benchmark scenarios into a directory, one body per line: ~1.5 KB
 * XDM page-view events (as alloy and server integrations send them), batches of them (one with an
 * {@code {ID}} placeholder for each event's {@code _id}), and interact bodies. {@code bench/wrk/post.lua}
 * sends the lines of a file in turn.
 *
 * <p>The events are varied as one shop's visitors' are (the visitor's FPID, the page, the referrer,
 * screen and viewport, browser, local time, cart), so a commit's group of them packs as a shop's
 * would: identical bodies would shrink ~80 times where varied ones shrink 8-26 times. With
 * {@code BENCH_IDENTICAL_BODIES=1} every file holds one fixed body.
 *
 * <p>Usage: {@code Bodies DIR [IDENTITY_STATE]}; with an identity state value, also the returning
 * visitor bodies (the same visitor on varied pages).
 */
public final class Bodies {
    static final String IDENTITY_KEY = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity";
    /** Bodies per single-event file, and per 50-event file (81 KB each). */
    private static final int SINGLE_BODIES = 1024;
    private static final int BATCH_BODIES = 64;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        boolean identical = "1".equals(System.getenv("BENCH_IDENTICAL_BODIES"));
        Random random = new Random(20261204L);
        Events fpid = identical ? r -> event(true, null) : r -> event(true, r);
        Events browser = identical ? r -> event(false, null) : r -> event(false, r);
        int singles = identical ? 1 : SINGLE_BODIES;
        int batches = identical ? 1 : BATCH_BODIES;
        write(dir, "collect-1.json", singles, () -> "{\"events\":[" + fpid.next(random) + "]}");
        write(dir, "collect-50.json", batches, () -> "{\"events\":[" + batch(fpid, random, "") + "]}");
        // Client-made ids, as alloy sends them: bench/wrk/post.lua puts a random UUIDv4 in each {ID}.
        write(dir, "collect-50-client-ids.json", batches,
                () -> "{\"events\":[" + batch(fpid, random, "\"_id\":\"{ID}\",") + "]}");
        String query = "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}";
        write(dir, "interact-new.json", singles, () -> "{\"event\":" + browser.next(random) + "," + query + "}");
        // What alloy writes on the first event of a page with renderDecisions and two named scopes.
        String personalization = ",\"query\":{\"personalization\":{\"schemas\":["
                + "\"https://ns.adobe.com/personalization/html-content-item\","
                + "\"https://ns.adobe.com/personalization/json-content-item\","
                + "\"https://ns.adobe.com/personalization/redirect-item\","
                + "\"https://ns.adobe.com/personalization/dom-action\"],"
                + "\"decisionScopes\":[\"hero-offer\",\"cart-offer\",\"__view__\"]}}}";
        write(dir, "interact-personalized.json", singles, () -> {
            String event = browser.next(random);
            return "{\"event\":" + event.substring(0, event.length() - 1) + personalization + "," + query + "}";
        });
        String meta = "\"meta\":{\"state\":{\"domain\":\"shop.test\",\"cookiesEnabled\":true%s}}";
        write(dir, "v1-interact.json", singles,
                () -> "{\"events\":[" + browser.next(random) + "]," + query + "," + meta.formatted("") + "}");
        if (args.length > 1) {
            String entries = ",\"entries\":[{\"key\":\"" + IDENTITY_KEY + "\",\"value\":\"" + args[1] + "\"}]";
            write(dir, "interact-returning.json", singles,
                    () -> "{\"event\":" + browser.next(random) + "," + query + "," + meta.formatted(entries) + "}");
        }
        // Single events with client-made ids, as alloy and the Mobile SDKs send every event; their own
        // generator, so the bodies above stay the same.
        Random own = new Random(20261207L);
        Events fpidOwn = identical ? r -> event(true, null) : r -> event(true, r);
        Events browserOwn = identical ? r -> event(false, null) : r -> event(false, r);
        write(dir, "collect-1-client-ids.json", singles,
                () -> "{\"events\":[" + withClientId(fpidOwn.next(own)) + "]}");
        write(dir, "interact-client-ids.json", singles,
                () -> "{\"event\":" + withClientId(browserOwn.next(own)) + "," + query + "}");
    }

    /** The event with an {@code _id} placeholder first in its xdm (bench/wrk/post.lua fills it). */
    private static String withClientId(String event) {
        return "{\"xdm\":{\"_id\":\"{ID}\"," + event.substring("{\"xdm\":{".length());
    }

    private interface Events {
        String next(Random random);
    }

    /** 50 events, each with {@code xdmPrefix} (an {@code _id} placeholder, or nothing) first in its xdm. */
    private static String batch(Events events, Random random, String xdmPrefix) {
        List<String> batch = new ArrayList<>(50);
        for (int i = 0; i < 50; i++) {
            batch.add("{\"xdm\":{" + xdmPrefix + events.next(random).substring("{\"xdm\":{".length()));
        }
        return String.join(",", batch);
    }

    private record Product(String slug, String name, String section, String sku, String price) {}

    private static final Product[] PRODUCTS = {
        new Product("linen-shirt-blue", "Linen shirt, blue", "summer", "LS-4412-BL", "59.9"),
        new Product("linen-shirt-white", "Linen shirt, white", "summer", "LS-4412-WH", "59.9"),
        new Product("canvas-sneaker", "Canvas sneaker", "summer", "CS-2210-NV", "79.0"),
        new Product("straw-hat", "Straw hat", "summer", "SH-0117-NT", "24.5"),
        new Product("wool-hat-grey", "Wool hat, grey", "winter", "WH-3301-GR", "29.0"),
        new Product("down-jacket", "Down jacket", "winter", "DJ-9020-BK", "249.0"),
        new Product("merino-socks", "Merino socks, 3 pairs", "winter", "MS-1203-MX", "19.9"),
        new Product("cashmere-scarf", "Cashmere scarf", "winter", "CF-7781-CM", "119.0"),
        new Product("leather-belt", "Leather belt", "accessories", "LB-5502-BR", "45.0"),
        new Product("weekend-bag", "Weekend bag", "accessories", "WB-6610-OL", "159.0"),
        new Product("sunglasses-round", "Round sunglasses", "accessories", "SG-0402-TT", "89.0"),
        new Product("rain-jacket", "Rain jacket", "outdoor", "RJ-4470-YL", "139.0"),
    };
    private static final int[][] SCREENS = {
        {1920, 1080}, {1366, 768}, {1536, 864}, {2560, 1440}, {1440, 900}, {390, 844}, {414, 896}, {360, 800},
    };
    private static final String[] AGENTS = {
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    };
    private static final String[] LANGUAGES = {"en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "en-US,en;q=0.9"};
    private static final String[] SORTS = {"price-ascending", "price-descending", "newest", "popular"};
    private static final String[][] SOURCES = {{"newsletter", "email"}, {"google", "cpc"}, {"instagram", "social"}, {"partner", "affiliate"}};
    private static final String[] SEGMENTS = {"returning-buyer", "new-visitor", "loyalty-gold", "lapsed"};
    private static final String[][] ZONES = {{"+01:00", "-60"}, {"+00:00", "0"}, {"+02:00", "-120"}, {"-05:00", "300"}};

    /**
     * One page view of about 1.5 KB; server batches carry an FPID marked primary, browsers rely on
     * the ECID. {@code random} null: the one fixed event.
     */
    static String event(boolean fpid, Random random) {
        Random r = random == null ? new Random(0) : random;
        Product p = random == null ? PRODUCTS[0] : PRODUCTS[r.nextInt(PRODUCTS.length)];
        int[] screen = random == null ? SCREENS[0] : SCREENS[r.nextInt(SCREENS.length)];
        String agent = random == null ? AGENTS[0] : AGENTS[r.nextInt(AGENTS.length)];
        String language = random == null ? LANGUAGES[0] : LANGUAGES[r.nextInt(LANGUAGES.length)];
        String[] source = random == null ? SOURCES[0] : SOURCES[r.nextInt(SOURCES.length)];
        String[] zone = random == null ? ZONES[0] : ZONES[r.nextInt(ZONES.length)];
        String visitor = random == null ? "79bf8e83-f708-414b-b1ed-5789ff33bf0b"
                : new java.util.UUID(r.nextLong() & ~0xF000L | 0x4000L, r.nextLong() & ~(3L << 62) | 1L << 63).toString();
        String variant = random == null ? "4412" : Integer.toString(1000 + r.nextInt(9000));
        String referrer = random == null ? "page=2&sort=price-ascending"
                : "page=" + (1 + r.nextInt(9)) + "&sort=" + SORTS[r.nextInt(SORTS.length)];
        int viewportWidth = random == null ? 1903 : screen[0] - r.nextInt(Math.max(1, screen[0] / 8));
        int viewportHeight = random == null ? 947 : screen[1] - 60 - r.nextInt(Math.max(1, screen[1] / 6));
        String localTime = random == null ? "2026-11-22T10:15:30.123"
                : String.format("2026-11-%02dT%02d:%02d:%02d.%03d", 16 + r.nextInt(7), r.nextInt(24), r.nextInt(60),
                        r.nextInt(60), r.nextInt(1000));
        boolean mobile = screen[0] < 600;
        char size = random == null ? 'M' : "SMLX".charAt(r.nextInt(4));
        String identity = fpid ? "\"identityMap\":{\"FPID\":[{\"id\":\"" + visitor + "\","
                + "\"authenticatedState\":\"ambiguous\",\"primary\":true}]}," : "";
        return "{\"xdm\":{" + identity
                + "\"eventType\":\"web.webpagedetails.pageViews\","
                + "\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example.test/collections/" + p.section() + "/products/"
                + p.slug() + "?variant=" + variant + "&utm_source=" + source[0] + "&utm_medium=" + source[1] + "\","
                + "\"name\":\"Products | " + p.name() + "\",\"siteSection\":\"collections/" + p.section() + "\",\"pageViews\":{\"value\":1}},"
                + "\"webReferrer\":{\"URL\":\"https://shop.example.test/collections/" + p.section() + "?" + referrer + "\",\"type\":\"internal\"}},"
                + "\"device\":{\"screenHeight\":" + screen[1] + ",\"screenWidth\":" + screen[0] + ",\"screenOrientation\":\""
                + (mobile ? "portrait" : "landscape") + "\",\"type\":\"" + (mobile ? "mobile" : "desktop") + "\"},"
                + "\"environment\":{\"type\":\"browser\",\"browserDetails\":{\"viewportWidth\":" + viewportWidth
                + ",\"viewportHeight\":" + viewportHeight + ","
                + "\"userAgent\":\"" + agent + "\","
                + "\"javaScriptEnabled\":true,\"cookiesEnabled\":true,\"acceptLanguage\":\"" + language + "\"}},"
                + "\"placeContext\":{\"localTime\":\"" + localTime + zone[0] + "\",\"localTimezoneOffset\":" + zone[1] + "},"
                + "\"commerce\":{\"productViews\":{\"value\":1}},"
                + "\"productListItems\":[{\"SKU\":\"" + p.sku() + "-" + size + "\",\"name\":\""
                + p.name() + ", " + size + "\",\"quantity\":1,\"priceTotal\":" + p.price() + ","
                + "\"currencyCode\":\"EUR\",\"productCategories\":[{\"categoryID\":\"" + p.section() + "\",\"schema\":\"category\"}]}],"
                + "\"marketing\":{\"trackingCode\":\"nl-2026-" + (random == null ? 11 : 10 + r.nextInt(3)) + "\",\"campaignGroup\":\""
                + source[0] + "\"},"
                + "\"implementationDetails\":{\"name\":\"https://ns.adobe.com/experience/alloy\",\"version\":\"2.33.1\",\"environment\":\"browser\"}},"
                + "\"data\":{\"__adobe\":{\"analytics\":{\"eVar1\":\"" + p.slug().split("-")[0] + "\",\"prop3\":\"" + p.section()
                + "\",\"events\":\"prodView\"}},"
                + "\"shop\":{\"cartSize\":" + (random == null ? 2 : r.nextInt(10)) + ",\"loggedIn\":"
                + (random != null && r.nextBoolean()) + ",\"segment\":\"" + (random == null ? SEGMENTS[0] : SEGMENTS[r.nextInt(SEGMENTS.length)])
                + "\",\"experiment\":\"pdp-gallery-" + (random == null ? "b" : "abc".charAt(r.nextInt(3))) + "\"}}}";
    }

    /** {@code count} bodies, one per line (a body's JSON has no line break). */
    private static void write(Path dir, String name, int count, java.util.function.Supplier<String> body)
            throws java.io.IOException {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < count; i++) {
            lines.append(body.get()).append('\n');
        }
        Files.writeString(dir.resolve(name), lines, StandardCharsets.UTF_8);
    }
}
