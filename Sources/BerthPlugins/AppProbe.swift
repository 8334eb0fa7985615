import Foundation
@_spi(BerthServer) import BerthApp

/// Opens an app library in a throwaway process, so that a library that crashes `dlopen`
/// (truncated, corrupt, built for something else) takes down only that process.
///
/// The child side is ``run(libraryPath:)``, reached through berth's hidden `probe-app`
/// subcommand: it prints one line, `berth-probe: {json}`, and exits 0 when the app can be
/// trusted, 1 when it cannot. The server side reads that line and turns it into an
/// ``AppLoadError`` with advice.
public enum AppProbe {
    /// The child's work: opens and checks the library, reports on stdout, returns the exit code.
    public static func run(libraryPath: String) -> Int32 {
        let report: Report
        switch AppImage.open(libraryPath, keepLoaded: false) {
        case .success(let image):
            report = Report(result: "ok", api: image.stamp.apiVersion, compiler: image.stamp.compiler,
                            type: String(reflecting: image.appType))
        case .failure(let refusal):
            report = Report(refusal)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        // Straight to the descriptor: the process exits right after, and nothing may sit in a buffer.
        let line = Array((linePrefix + json + "\n").utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        return report.result == "ok" ? 0 : 1
    }

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

    static let linePrefix = "berth-probe: "

    /// The line the child prints; plain values only, so any two builds of berth agree on it.
    struct Report: Codable {
        var result: String
        var detail: String?
        var api: Int?
        var compiler: String?
        var type: String?

        init(result: String, detail: String? = nil, api: Int? = nil, compiler: String? = nil, type: String? = nil) {
            self.result = result
            self.detail = detail
            self.api = api
            self.compiler = compiler
            self.type = type
        }

        init(_ refusal: AppImage.Refusal) {
            switch refusal {
            case .cannotOpen(let why): self.init(result: "cannot-open", detail: why)
            case .missingEntry: self.init(result: "missing-entry")
            case .invalidEntry(let what): self.init(result: "invalid-entry", detail: what)
            case .stampMismatch(let app): self.init(result: "stamp-mismatch", api: app.apiVersion, compiler: app.compiler)
            case .notLinkedToAPI: self.init(result: "not-linked")
            case .ownAPICopy: self.init(result: "own-api-copy")
            case .notAnApp: self.init(result: "not-an-app")
            }
        }

        /// The refusal this report describes, or nil for "ok" and unknown results.
        var reason: AppLoadError.Reason? {
            let refusal: AppImage.Refusal
            switch result {
            case "cannot-open": refusal = .cannotOpen(detail ?? "")
            case "missing-entry": refusal = .missingEntry
            case "invalid-entry": refusal = .invalidEntry(detail ?? "")
            case "stamp-mismatch":
                refusal = .stampMismatch(app: AppStamp(apiVersion: api ?? 0, compiler: compiler ?? "unknown"))
            case "not-linked": refusal = .notLinkedToAPI
            case "own-api-copy": refusal = .ownAPICopy
            case "not-an-app": refusal = .notAnApp
            default: return nil
            }
            return refusal.reason
        }
    }
}
