import BerthConfig
import Foundation
import Logging
import Synchronization

/// The error log: one line per event, `time level message key=value…`, with dotted
/// metadata keys. Written with one `write(2)` per line so lines from several threads never
/// interleave.
struct ErrorLogHandler: LogHandler {
    let sink: ErrorLogSink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = self.metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        var line = "\(Self.timestamp()) \(event.level) \(event.message)"
        for key in fields.keys.sorted() {
            line += " \(key)=\(Self.quoted("\(fields[key]!)"))"
        }
        self.sink.write(line + "\n")
    }

    private static func quoted(_ value: String) -> String {
        if !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0.isNewline }) { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var tm = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, now.tv_nsec / 1_000_000)
    }
}

/// Where error-log lines go; reopenable for log rotation, and retargetable when a reload
/// names another destination.
final class ErrorLogSink: Sendable {
    private struct Target {
        var destination: LogDestination
        var fd: Int32
    }

    private let target: Mutex<Target>

    init(destination: LogDestination) throws {
        self.target = Mutex(Target(destination: destination, fd: try Self.open(destination)))
    }

    private static func open(_ destination: LogDestination) throws -> Int32 {
        switch destination {
        case .standardOutput: return STDOUT_FILENO
        case .standardError: return STDERR_FILENO
        case .off: return -1
        case .file(let path):
            let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw CLIError("cannot open error log '\(path)': \(String(cString: strerror(errno)))")
            }
            return fd
        }
    }

    func reopen() throws {
        let destination = self.target.withLock { $0.destination }
        guard case .file = destination else { return }
        try self.retarget(destination)
    }

    /// Writes to `destination` from now on; the old file is closed.
    func retarget(_ destination: LogDestination) throws {
        let fresh = try Self.open(destination)
        let old = self.target.withLock { target in
            defer { target = Target(destination: destination, fd: fresh) }
            return target.fd
        }
        if old > 2 { close(old) }
    }

    func write(_ line: String) {
        self.target.withLock { target in
            guard target.fd >= 0 else { return }
            var bytes = Array(line.utf8)
            _ = bytes.withUnsafeMutableBytes { Glibc.write(target.fd, $0.baseAddress, $0.count) }
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
