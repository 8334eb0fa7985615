@testable import BerthConfig
@testable import BerthConfigFile
import Testing

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("512", 512), ("0", 0), ("16KiB", 16 * 1024), ("10MiB", 10 * 1024 * 1024), ("1GiB", 1 << 30),
        ("64KB", 64_000), ("2MB", 2_000_000), ("1GB", 1_000_000_000), ("1.5MiB", 1_572_864),
        ("16k", 16_384), ("16K", 16_384), ("2M", 2 << 20), ("1G", 1 << 30), ("1T", 1 << 40),
        ("16kib", 16_384), ("16 KiB", 16_384), ("100b", 100), ("100B", 100), (" 8KiB ", 8192),
        ("0.5KiB", 512), ("1.0001KB", 1000), (".5K", 512), ("1.1MiB", 1_153_434),
    ])
    func parses(text: String, bytes: Int) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: [
        "", "big", "KiB", "-1", "-1MiB", "1e3", "1.2.3K", "16 Kibibytes", "1x", "99999999999999999999",
        "9999999999TiB", "1,5MiB", "+5K",
    ])
    func rejects(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }
}

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("10s", Duration.seconds(10)), ("500ms", .milliseconds(500)), ("2m", .seconds(120)),
        ("1h", .seconds(3600)), ("1d", .seconds(86_400)), ("30", .seconds(30)), ("1m30s", .seconds(90)),
        ("1h 30m", .seconds(5400)), ("1.5s", .milliseconds(1500)), ("0.5h", .seconds(1800)),
        ("0", .zero), ("0s", .zero), ("2.5", .milliseconds(2500)), ("10S", .seconds(10)),
        ("1M", .seconds(60)), ("1h1m1s1ms", .milliseconds(3_661_001)), ("0.25ms", .microseconds(250)),
    ])
    func parses(text: String, duration: Duration) {
        #expect(DurationText.parse(text) == duration)
    }

    @Test(arguments: ["", "s", "soon", "-1s", "10 seconds", "1y", "1w", "5 minutes", "1h-5m", "10s10",
                      "1..5s", "99999999999999d"])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }
}

@Suite struct SuggestionTests {
    static let keys = ["index", "listing", "dotfiles", "symlinks", "static", "redirect", "app", "cache_control"]

    @Test(arguments: [
        ("indx", "index"), ("lisitng", "listing"), ("Listing", "listing"), ("stat", "static"),
        ("redirct", "redirect"), ("ap", "app"), ("cache_controls", "cache_control"),
        ("symlink", "symlinks"),
    ])
    func suggestsTheClosestKey(typo: String, key: String) {
        #expect(Suggestion.closest(to: typo, in: SuggestionTests.keys) == key)
    }

    @Test(arguments: ["colour", "xyz", "ab", "headers"])
    func staysQuietWhenNothingIsClose(word: String) {
        #expect(Suggestion.closest(to: word, in: SuggestionTests.keys) == nil)
    }

    @Test func editDistance() {
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("", "abc") == 3)
        #expect(Suggestion.editDistance("same", "same") == 0)
    }
}

@Suite struct HostNameTests {
    @Test(arguments: [
        ("Example.Test", "example.test"), ("*.Example.test", "*.example.test"), ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"), ("[::1]", "[::1]"), ("[0:0:0:0:0:0:0:1]", "[::1]"),
        ("xn--caf-dma.test", "xn--caf-dma.test"), ("a-b.c1.test", "a-b.c1.test"),
    ])
    func accepts(name: String, normalized: String) throws {
        #expect(try HostName.normalize(name).get() == normalized)
    }

    @Test(arguments: ["", "*", "a.*.test", "*a.test", "a_b.test", "a..test", ".a.test", "a.test.",
                      "-a.test", "a-.test", "host:80", "::1", "[nope]", "[127.0.0.1]", "café.test",
                      String(repeating: "a", count: 64) + ".test"])
    func rejects(name: String) {
        #expect(throws: HostName.Problem.self) { try HostName.normalize(name).get() }
    }

    @Test func listenerAddressesAreCanonical() {
        #expect(IPAddress.canonical("0:0::1") == "::1")
        #expect(IPAddress.canonical("[::]") == "::")
        #expect(IPAddress.canonical("127.0.0.1") == "127.0.0.1")
        #expect(IPAddress.canonical("localhost") == nil)
        #expect(IPAddress.canonical("256.0.0.1") == nil)
    }
}

@Suite struct ConfigPathTests {
    @Test(arguments: [
        ("public", "/srv/conf", "/srv/conf/public"), ("../sites/a/", "/srv/conf", "/srv/sites/a"),
        ("/abs//x/./y/", "/srv", "/abs/x/y"), ("../../../..", "/srv/conf", "/"), (".", "/srv", "/srv"),
    ])
    func resolves(path: String, base: String, resolved: String) {
        #expect(ConfigPath.resolve(path, against: base) == resolved)
    }
}
