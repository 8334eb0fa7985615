/// The part of `swift build`'s output a developer needs when a build fails: the compiler's
/// diagnostics with their source excerpts, without the progress lines, each diagnostic once.
///
/// The Swift driver reports an error from more than one job (emitting the module and
/// compiling the file); the same `file:line:column: error:` block twice only hides the next one.
public enum CompilerOutput {
    /// At most this many lines are kept: the first errors are the ones to fix.
    public static let lineLimit = 200

    /// The diagnostics among a build's output `lines`; the last lines as they came when none
    /// is recognized (a manifest that does not parse, a toolchain that cannot start).
    public static func diagnostics(_ lines: [String]) -> [String] {
        var kept: [String] = []
        var seen: Set<String> = []
        var skipping = false
        for line in lines {
            if self.isProgress(line) {
                skipping = false
                continue
            }
            if self.isDiagnosticHeader(line) {
                skipping = !seen.insert(line).inserted
            }
            if !skipping { kept.append(line) }
        }
        while kept.last?.allSatisfy(\.isWhitespace) == true { kept.removeLast() }
        if kept.isEmpty { return lines.suffix(20) }
        if kept.count > self.lineLimit {
            return kept.prefix(self.lineLimit) + ["… (\(kept.count - self.lineLimit) more lines)"]
        }
        return kept
    }

    /// `[12/40] Compiling …`, `Building for production...`, `Build complete!`.
    private static func isProgress(_ line: String) -> Bool {
        if line.hasPrefix("Building for ") || line.hasPrefix("Build complete") { return true }
        guard line.first == "[", let close = line.firstIndex(of: "]") else { return false }
        let counter = line[line.index(after: line.startIndex)..<close]
        return !counter.isEmpty && counter.allSatisfy { $0.isNumber || $0 == "/" }
    }

    /// `/path/File.swift:10:35: error: …` (or warning, note; `<unknown>:0:` for the driver's
    /// own), but not a line of a source excerpt (`10 |     code`, `   |  `- error: …`).
    private static func isDiagnosticHeader(_ line: String) -> Bool {
        let isExcerpt = line.drop { $0 == " " || $0.isNumber }.first == "|"
        return !isExcerpt && (line.contains(": error: ") || line.contains(": warning: ") || line.contains(": note: "))
    }
}
