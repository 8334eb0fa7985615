import BerthConfig
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Synchronization

/// The error log: one line per event, `time level message key=value…`, with dotted
/// metadata keys. Written with one `write(2)` per line so lines from several threads never
/// interleave.
package struct ErrorLogHandler: LogHandler {
    package let sink: ErrorLogSink
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    package let label: String

    package init(sink: ErrorLogSink, logLevel: Logger.Level, label: String) {
        self.sink = sink
        self.logLevel = logLevel
        self.label = label
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
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
        var quoted = "\""
        for character in value {
            switch character {
            case "\\": quoted += "\\\\"
            case "\"": quoted += "\\\""
            case "\n": quoted += "\\n"
            default: quoted.append(character)
            }
        }
        return quoted + "\""
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var tm = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &tm)
        func digits(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(digits(Int(tm.tm_year) + 1900, 4))-\(digits(Int(tm.tm_mon) + 1, 2))-\(digits(Int(tm.tm_mday), 2))"
            + "T\(digits(Int(tm.tm_hour), 2)):\(digits(Int(tm.tm_min), 2)):\(digits(Int(tm.tm_sec), 2))"
            + ".\(digits(now.tv_nsec / 1_000_000, 3))Z"
    }
}

/// Where error-log lines go; reopenable for log rotation, and retargetable when a reload
/// names another destination.
package final class ErrorLogSink: Sendable {
    private struct Target {
        var destination: LogDestination
        var fd: Int32
    }

    private let target: Mutex<Target>

    package init(destination: LogDestination) throws {
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

    package func reopen() throws {
        let destination = self.target.withLock { $0.destination }
        guard case .file = destination else { return }
        try self.retarget(destination)
    }

    /// Writes to `destination` from now on; the old file is closed.
    package func retarget(_ destination: LogDestination) throws {
        let fresh = try Self.open(destination)
        let old = self.target.withLock { target in
            defer { target = Target(destination: destination, fd: fresh) }
            return target.fd
        }
        if old > 2 { close(old) }
    }

    package func write(_ line: String) {
        self.target.withLock { target in
            guard target.fd >= 0 else { return }
            var bytes = Array(line.utf8)
            _ = bytes.withUnsafeMutableBytes { Glibc.write(target.fd, $0.baseAddress, $0.count) }
        }
    }
}

package struct CLIError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Messages for the person at the terminal, unbuffered.
package enum StandardError {
    package static func write(_ text: String) {
        Descriptor.writeAll(STDERR_FILENO, Array(text.utf8))
    }
}
