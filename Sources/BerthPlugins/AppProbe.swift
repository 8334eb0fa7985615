import FoundationEssentials

/// Opens an app library in a throwaway process, so that a library that crashes `dlopen`
/// (truncated, corrupt, built for something else) takes down only that process.
///
/// The child side is `run(libraryPath:)` (in BerthAppLoader, which links the app API), reached
/// through `berth-worker probe-app`: it prints one line, `berth-probe: {json}`, and exits 0
/// when the app can be trusted, 1 when it cannot. This side reads that line and turns it into
/// an ``AppLoadError`` with advice; it links no app API, so a master can run it.
public enum AppProbe {
    /// Runs `probe + [libraryPath]` and returns the app's type name, or the reason to refuse it.
    static func verify(app: String, libraryPath: String, probe: [String], timeoutSeconds: Int) throws(AppLoadError) -> String {
        func refuse(_ reason: AppLoadError.Reason) -> AppLoadError {
            AppLoadError(app: app, file: libraryPath, reason: reason)
        }
        guard !probe.isEmpty else { throw refuse(.probeFailed("no probe command is configured")) }
        var output: [UInt8] = []
        let termination: ChildProcess.Termination
        do {
            // A crash is an expected outcome here, and Swift's backtracer would spend seconds
            // symbolicating it (and swallows signals sent with raise).
            termination = try ChildProcess.run(probe + [libraryPath], environment: ["SWIFT_BACKTRACE": "enable=no"],
                                               timeoutSeconds: timeoutSeconds) { chunk in
                if output.count < 64 * 1024 { output += chunk }
            }
        } catch {
            throw refuse(.probeFailed("cannot start \(probe[0]): \(error.message)"))
        }
        let text = String(decoding: output, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let others = lines.filter { !$0.hasPrefix(linePrefix) }.suffix(5).joined(separator: " | ")
        switch termination {
        case .signaled(let signal):
            throw refuse(.probeCrashed(signal: signal, output: others))
        case .timedOut:
            throw refuse(.probeFailed("it did not finish within \(timeoutSeconds) s; does the library hang while loading?"))
        case .exited(let status):
            guard let line = lines.last(where: { $0.hasPrefix(linePrefix) }),
                  let report = try? JSONDecoder().decode(Report.self, from: Data(line.dropFirst(linePrefix.count).utf8)) else {
                let said = others.isEmpty ? "" : ": \(others)"
                throw refuse(.probeFailed("`\(probe.joined(separator: " "))` gave no report, \(termination)\(said)"))
            }
            if report.result == "ok", status == 0, let type = report.type { return type }
            throw refuse(report.reason ?? .probeFailed("unexpected probe report \(line)"))
        }
    }

    package static let linePrefix = "berth-probe: "

    /// The line the child prints; plain values only, so any two builds of berth agree on it.
    package struct Report: Codable {
        package var result: String
        /// What went wrong; for a stamp mismatch, the stamp the probe (the server) accepts.
        package var detail: String?
        package var api: Int?
        package var compiler: String?
        package var type: String?

        package init(result: String, detail: String? = nil, api: Int? = nil, compiler: String? = nil, type: String? = nil) {
            self.result = result
            self.detail = detail
            self.api = api
            self.compiler = compiler
            self.type = type
        }

        /// The refusal this report describes, or nil for "ok" and unknown results.
        var reason: AppLoadError.Reason? {
            switch result {
            case "cannot-open": return .cannotOpen(detail ?? "")
            case "missing-entry": return .missingEntry
            case "invalid-entry": return .invalidEntry(detail ?? "")
            case "stamp-mismatch":
                return .stampMismatch(app: "BerthApp API \(api ?? 0) with Swift \(compiler ?? "unknown")",
                                      server: detail ?? "unknown")
            case "not-linked": return .notLinkedToAPI
            case "own-api-copy": return .ownAPICopy
            case "not-an-app": return .notAnApp
            default: return nil
            }
        }
    }
}
