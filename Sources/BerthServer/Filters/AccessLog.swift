import BerthConfig
import FoundationEssentials
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// One line of the access log, filled in as a request is answered.
struct AccessRecord: Sendable {
    var remoteAddress: String
    /// From the request's start to the end of its answer, on the exchange's clock.
    var duration: TimeAmount
    var wallClock: Date
    var method: String
    var uri: String
    var version: String
    var host: String
    var status: Int
    var bodyBytes: Int64
    var referer: String?
    var userAgent: String?
}

/// Appends access records to a file or a standard stream, one `write(2)` per line, so
/// concurrent event loops never interleave partial lines and a crash loses at most the
/// line being written. SIGUSR1 handling reopens the file (log rotation).
final class AccessLog: Sendable {
    let destination: LogDestination
    let format: AccessLogFormat
    private let descriptor: Mutex<Int32>

    init(destination: LogDestination, format: AccessLogFormat) throws {
        self.destination = destination
        self.format = format
        self.descriptor = Mutex(try Self.open(destination))
    }

    deinit {
        let fd = self.descriptor.withLock { $0 }
        if fd > 2 { close(fd) }
    }

    private static func open(_ destination: LogDestination) throws -> Int32 {
        switch destination {
        case .standardOutput: return STDOUT_FILENO
        case .standardError, .off: return STDERR_FILENO
        case .file(let path):
            let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 {
                throw LogFileError(path: path, reason: String(cString: strerror(errno)))
            }
            return fd
        }
    }

    /// Reopens a log file after it was moved away by log rotation.
    func reopen() throws {
        guard case .file = self.destination else { return }
        let fresh = try Self.open(self.destination)
        let old = self.descriptor.withLock { fd in
            let old = fd
            fd = fresh
            return old
        }
        if old > 2 { close(old) }
    }

    func append(_ record: AccessRecord) {
        var line = self.format == .json ? Self.json(record) : Self.combined(record)
        line.append("\n")
        self.descriptor.withLock { fd in
            var utf8 = line.utf8CString.dropLast()  // without the NUL
            _ = utf8.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }

    /// `strftime` on the calling thread: a shared DateFormatter is not safe to use from
    /// several event loops at once.
    static func formatTime(_ date: Date, _ format: String) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The NCSA combined format nginx and Apache write by default.
    static func combined(_ r: AccessRecord) -> String {
        let time = Self.formatTime(r.wallClock, "%d/%b/%Y:%H:%M:%S %z")
        // Input that never became a request (malformed, or cut off) has no request line: "-",
        // as nginx writes it.
        let request = r.method == "-" ? "-" : "\(r.method) \(r.uri) \(r.version)"
        return "\(r.remoteAddress) - - [\(time)] \"\(escape(request))\" \(r.status) \(r.bodyBytes) \"\(escape(r.referer ?? "-"))\" \"\(escape(r.userAgent ?? "-"))\" \(escape(r.host))"
    }

    static func json(_ r: AccessRecord) -> String {
        let millis = Double(r.duration.nanoseconds) / 1e6
        let fields: [(String, String)] = [
            ("time", jsonString(Self.formatTime(r.wallClock, "%Y-%m-%dT%H:%M:%S%z"))),
            ("remote", jsonString(r.remoteAddress)),
            ("host", jsonString(r.host)),
            ("method", jsonString(r.method)),
            ("uri", jsonString(r.uri)),
            ("version", jsonString(r.version)),
            ("status", String(r.status)),
            ("bytes", String(r.bodyBytes)),
            ("referer", r.referer.map(jsonString) ?? "null"),
            ("user_agent", r.userAgent.map(jsonString) ?? "null"),
            ("duration_ms", Self.threeDecimals(millis)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// Request data is attacker-controlled: quotes, backslashes and control bytes are
    /// escaped so a line can never be forged or split.
    private static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + Self.hex(scalar.value, digits: 2)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + Self.hex(scalar.value, digits: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `value` in upper-case hexadecimal, zero-padded to `digits`.
    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// `12.345`: milliseconds to the microsecond, as `%.3f` writes them.
    static func threeDecimals(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(abs(thousandths) % 1000)
        let sign = thousandths < 0 ? "-" : ""
        return "\(sign)\(abs(thousandths) / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

struct LogFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot open log file '\(self.path)': \(self.reason)" }
}
