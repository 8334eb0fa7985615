import BerthConfig
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks a configuration's sites and certificates as a start would, in a child running the
/// worker binary (`berth-worker check-sites`): the serving code lives there, not in the master.
enum SiteCheck {
    /// The warnings, or every problem (one per line) as the failure's description.
    static func run(_ config: ServerConfig) throws(ChildReport.Failure) -> [String] {
        var template = Array((FileManager.default.temporaryDirectory.path + "/berth-sites-XXXXXX.json").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 5) }
        guard fd >= 0 else {
            throw ChildReport.Failure(description: "cannot write a file to check the sites in: \(String(cString: strerror(errno)))")
        }
        let file = String(cString: template)
        defer { unlink(file) }
        let json: Data
        do { json = try ConfigJSON.encode(config) } catch {
            close(fd)
            throw ChildReport.Failure(description: "cannot hand the configuration to \(WorkerBinary.name): \(error)")
        }
        let written = Descriptor.writeAll(fd, Array(json))
        close(fd)
        guard written else { throw ChildReport.Failure(description: "cannot write \(file): \(String(cString: strerror(errno)))") }
        if let problem = WorkerBinary.problem() { throw ChildReport.Failure(description: problem) }
        let report = try ChildReport.run([WorkerBinary.path, SiteCheckReport.command, file],
                                         prefix: SiteCheckReport.linePrefix, as: SiteCheckReport.self)
        if let error = report.error { throw ChildReport.Failure(description: error) }
        return report.warnings
    }
}
