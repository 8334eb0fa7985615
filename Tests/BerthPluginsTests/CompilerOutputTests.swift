import Testing
import BerthPlugins

/// What a failed build shows: the diagnostics, once each, without the progress lines.
@Suite("Compiler output of a failed build")
struct CompilerOutputTests {
    /// As `swift build` 6.3 printed it for one missing name, reported by two compiler jobs.
    let output = [
        "Building for production...",
        "[0/7] Write sources",
        "[4/9] Emitting module HelloApp",
        "/tmp/hello/Sources/HelloApp/HelloApp.swift:10:35: error: cannot find 'undefinedGreeting' in scope",
        " 8 |     public init(context: AppContext) {",
        "10 |         let world = Response.text(undefinedGreeting)",
        "   |                                   `- error: cannot find 'undefinedGreeting' in scope",
        "",
        "[5/10] Compiling HelloApp HelloApp.swift",
        "/tmp/hello/Sources/HelloApp/HelloApp.swift:10:35: error: cannot find 'undefinedGreeting' in scope",
        " 8 |     public init(context: AppContext) {",
        "10 |         let world = Response.text(undefinedGreeting)",
        "   |                                   `- error: cannot find 'undefinedGreeting' in scope",
        "",
    ]

    @Test func diagnosticsAreKeptOnceWithTheirExcerpts() {
        #expect(CompilerOutput.diagnostics(self.output) == Array(self.output[3...6]))
    }

    @Test func theDriversOwnRepeatedErrorsAreKeptOnce() {
        let lines = [
            "error: emit-module command failed with exit code 1 (use -v to see invocation)",
            "<unknown>:0: error: missing required module 'SwiftShims'",
            "<unknown>:0: error: missing required module 'SwiftShims'",
        ]
        #expect(CompilerOutput.diagnostics(lines) == Array(lines[0...1]))
    }

    @Test func outputWithoutDiagnosticsIsKeptAsItCame() {
        let lines = ["Building for production...", "error: manifest parse error(s):", "Package.swift:3:1: error: expected expression"]
        #expect(CompilerOutput.diagnostics(lines) == Array(lines[1...]))
        let onlyProgress = ["Building for production...", "[1/2] Compiling X x.swift"]
        #expect(CompilerOutput.diagnostics(onlyProgress) == onlyProgress, "nothing else to show: the tail as it came")
    }

    @Test func longOutputIsCut() {
        let lines = (0..<500).map { "/a/b.swift:\($0):1: error: number \($0)" }
        let kept = CompilerOutput.diagnostics(lines)
        #expect(kept.count == CompilerOutput.lineLimit + 1)
        #expect(kept.last == "… (300 more lines)")
    }
}
