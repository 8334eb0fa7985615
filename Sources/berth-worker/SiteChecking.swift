import BerthConfig
import BerthProcess
import BerthServer
import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `berth-worker check-sites FILE`: builds the sites of the configuration in FILE (JSON, as
/// the master wrote it) and checks every certificate, as a start would, then prints one
/// `SiteCheckReport` line. Exit status 0 when it could judge, 2 when it could not read FILE.
enum SiteChecking {
    static func run(_ arguments: [String]) -> Int32 {
        guard arguments.count == 1, let file = arguments.first,
              let data = FileManager.default.contents(atPath: file),
              let config = try? ConfigJSON.decode(ServerConfig.self, from: data)
        else {
            Descriptor.writeAll(STDERR_FILENO, Array("usage: berth-worker \(SiteCheckReport.command) CONFIG.json\n".utf8))
            return 2
        }
        var quiet = Logger(label: "berth.check") { _ in SwiftLogNoOpLogHandler() }
        quiet.logLevel = .critical
        let report: SiteCheckReport
        do {
            report = SiteCheckReport(warnings: try Server.check(config: config, logger: quiet), error: nil)
        } catch {
            report = SiteCheckReport(warnings: [], error: "\(error)")
        }
        let json = (try? JSONEncoder().encode(report)).map { Array($0) } ?? Array("{}".utf8)
        Descriptor.writeAll(STDOUT_FILENO, Array(SiteCheckReport.linePrefix.utf8) + json + [UInt8(ascii: "\n")])
        return 0
    }
}
