import BerthConfig
import BerthConfigFile
import Foundation
import Testing

/// Each bad config `Fixtures/NAME.yaml` has `Fixtures/NAME.expected`: the exact messages, one per
/// line, in file order. `FILE` stands for the fixture's path and `DIR` for the Fixtures folder,
/// since both differ from machine to machine.
@Suite struct FixtureTests {
    static let badConfigs = [
        "unknown-key-suggestion", "unknown-key-no-suggestion", "wrong-types", "bad-size",
        "bad-duration", "missing-dir", "duplicate-host", "two-defaults", "port-clash",
        "unknown-app", "yaml-syntax", "yaml-tabs", "yaml-duplicate-key", "many-errors", "redirect-status",
        "prefix-without-slash", "missing-required", "tls-listener", "host-handlers",
        "bad-host-names", "bad-values", "bad-apps", "empty", "bad-process", "tls-options", "bad-compress",
        "acme-without-block", "acme-names", "acme-no-http01-listener", "acme-no-tls-alpn-listener",
        "acme-values", "acme-values-2", "bad-websocket",
    ]

    static var fixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    @Test(arguments: badConfigs)
    func reportsExactlyTheExpectedErrors(name: String) throws {
        let file = FixtureTests.fixtures.appendingPathComponent("\(name).yaml").path
        let expectedFile = FixtureTests.fixtures.appendingPathComponent("\(name).expected")
        let expected = try String(contentsOf: expectedFile, encoding: .utf8)
            .replacingOccurrences(of: "FILE", with: file)
            .replacingOccurrences(of: "DIR", with: FixtureTests.fixtures.standardizedFileURL.path)
            .split(separator: "\n").map(String.init)
        do {
            let config = try ConfigLoader.load(file: file)
            Issue.record("\(name).yaml loaded without errors: \(config)")
        } catch {
            let actual = error.description.split(separator: "\n").map(String.init)
            #expect(actual == expected, "\n\(error.description)")
            #expect(error.errors.count == expected.count)
        }
    }

    /// A fixture without its expectations would be silently skipped.
    @Test func everyFixtureIsListed() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: FixtureTests.fixtures.path)
        let yamls = Set(names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) })
        let expectations = Set(names.filter { $0.hasSuffix(".expected") }.map { String($0.dropLast(9)) })
        #expect(yamls == Set(FixtureTests.badConfigs))
        #expect(expectations == yamls)
    }
}
