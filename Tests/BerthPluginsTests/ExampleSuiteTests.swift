import Testing

/// The example apps' own test suites (`sites/*/Tests`, written with BerthAppTesting), run by
/// `swift test` in their packages from here, so the project's one test command runs them too
/// and any failure in them fails it.
@Suite("Example apps' own suites", .timeLimit(.minutes(20)))
struct ExampleSuiteTests {
    @Test(arguments: ["hello", "notes"])
    func suitePasses(_ name: String) async throws {
        let output = try await Fixtures.shared.exampleSuite(name)
        // A suite that ran nothing would pass too: it must have run tests, and all of them passed.
        let summary = try #require(output.split(separator: "\n").last { $0.contains("Test run with") },
                                   "no test summary in the output of \(name)'s suite:\n\(output.suffix(2000))")
        #expect(summary.contains(" passed "), "\(summary)")
        #expect(!summary.contains("with 0 tests"), "\(summary)")
    }
}
