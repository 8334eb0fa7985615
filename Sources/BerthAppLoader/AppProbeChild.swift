@_spi(BerthServer) import BerthApp
import BerthPlugins
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension AppProbe {
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
}

extension AppProbe.Report {
    init(_ refusal: AppImage.Refusal) {
        switch refusal {
        case .cannotOpen(let why): self.init(result: "cannot-open", detail: why)
        case .missingEntry: self.init(result: "missing-entry")
        case .invalidEntry(let what): self.init(result: "invalid-entry", detail: what)
        case .stampMismatch(let app):
            self.init(result: "stamp-mismatch", detail: AppStamp.server.accepted, api: app.apiVersion, compiler: app.compiler)
        case .notLinkedToAPI: self.init(result: "not-linked")
        case .ownAPICopy: self.init(result: "own-api-copy")
        case .notAnApp: self.init(result: "not-an-app")
        }
    }
}

extension AppStamp {
    /// How a refusal names the stamp this process accepts.
    var accepted: String { "API \(apiVersion) with Swift \(compiler)" }
}
