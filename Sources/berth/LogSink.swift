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

/// Where error-log lines go; reopenable for log rotation.
final class ErrorLogSink: Sendable {
    private let destination: LogDestination
    private let descriptor: Mutex<Int32>

    init(destination: LogDestination) throws {
        self.destination = destination
        self.descriptor = Mutex(try Self.open(destination))
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
        guard case .file = self.destination else { return }
        let fresh = try Self.open(self.destination)
        let old = self.descriptor.withLock { fd in
            defer { fd = fresh }
            return fd
        }
        if old > 2 { close(old) }
    }

    func write(_ line: String) {
        self.descriptor.withLock { fd in
            guard fd >= 0 else { return }
            var bytes = Array(line.utf8)
            _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
