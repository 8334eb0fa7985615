import Foundation
import Testing

/// How a request reaches the server: the same checks run over each.
enum Transport: String, CaseIterable, CustomStringConvertible, Sendable {
    case http1 = "HTTP/1.1"
    case https1 = "HTTP/1.1 over TLS"
    case https2 = "HTTP/2 over TLS"

    var description: String { self.rawValue }
    var isSecure: Bool { self != .http1 }
    /// The version the access log writes for it.
    var logVersion: String { self == .https2 ? "HTTP/2.0" : "HTTP/1.1" }
}

/// A response as curl saw it.
struct CurlResponse: CustomStringConvertible {
    var status: Int
    /// curl's %{http_version}: "1.1" or "2".
    var version: String
    /// Names lowercased, in order.
    var headers: [(String, String)]
    var body: Data

    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return self.headers.first { $0.0 == lower }?.1
    }

    var text: String { String(decoding: self.body, as: UTF8.self) }

    var description: String {
        "HTTP/\(self.version) \(self.status)\n" + self.headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
            + "\n\n" + self.text.prefix(300)
    }
}

extension BerthProcess {
    /// The first plain and the first TLS listener's ports.
    var plainPort: Int { self.ports.first { !self.securePorts.contains($0) } ?? self.port }
    var securePort: Int { self.securePorts[0] }

    /// One request with curl, the name resolved to 127.0.0.1 so that SNI and Host carry it.
    func curl(
        _ path: String, host: String, over transport: Transport, method: String = "GET",
        headers: [String] = [], body: Data? = nil, extra: [String] = []
    ) throws -> CurlResponse {
        let port = transport.isSecure ? self.securePort : self.plainPort
        let scheme = transport.isSecure ? "https" : "http"
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("berth-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let headerFile = scratch.appendingPathComponent("headers").path
        let bodyFile = scratch.appendingPathComponent("body").path
        var arguments = [
            "-s", "-k", "--max-time", "20", "--resolve", "\(host):\(port):127.0.0.1",
            "-D", headerFile, "-o", bodyFile, "-w", "%{http_version}",
            transport == .https2 ? "--http2" : "--http1.1",
        ]
        if method == "HEAD" {
            arguments.append("--head")
        } else if method != "GET" || body != nil {
            arguments += ["-X", method]
        }
        for header in headers { arguments += ["-H", header] }
        if let body {
            let file = scratch.appendingPathComponent("request").path
            try body.write(to: URL(fileURLWithPath: file))
            arguments += ["--data-binary", "@" + file]
        }
        arguments += extra
        arguments.append("\(scheme)://\(host):\(port)\(path)")
        let result = try Tool.run(Tool.curl, arguments)
        let headerText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        // The last block: a 100 Continue may come first.
        let block = headerText.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }.last ?? ""
        var lines = block.components(separatedBy: "\r\n")
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let fields = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let data = FileManager.default.contents(atPath: bodyFile) ?? Data()
        return CurlResponse(status: status, version: result.text, headers: fields, body: data)
    }

    /// `openssl s_client` to the TLS listener: what the handshake showed.
    func tlsHandshake(serverName: String?, arguments: [String] = []) throws -> Tool.Output {
        var command = ["s_client", "-connect", "127.0.0.1:\(self.securePort)"]
        command += serverName.map { ["-servername", $0] } ?? ["-noservername"]
        return try Tool.execute(Tool.openssl, command + arguments, timeout: 20)
    }

    /// The common name of the certificate the server presented for `serverName`.
    func presentedCommonName(serverName: String?) throws -> String? {
        let output = try self.tlsHandshake(serverName: serverName)
        let text = output.text + output.stderr
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("subject=") }),
              let range = line.range(of: "CN = ") ?? line.range(of: "CN=")
        else { return nil }
        return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
}

/// Just enough of HTTP/2 (RFC 9113 §4) to send frames a well-behaved client never would, and to
/// read what the server answered. Runs over `openssl s_client -alpn h2`, which carries raw bytes.
enum H2 {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum FrameType: UInt8 {
        case data = 0, headers = 1, priority = 2, rstStream = 3, settings = 4, pushPromise = 5
        case ping = 6, goAway = 7, windowUpdate = 8, continuation = 9
    }

    struct Frame: CustomStringConvertible {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        var payload: [UInt8]

        var description: String { "type \(self.type) flags \(self.flags) stream \(self.stream) (\(self.payload.count) bytes)" }

        /// The error code of RST_STREAM or GOAWAY.
        var errorCode: UInt32? {
            switch self.type {
            case FrameType.rstStream.rawValue where self.payload.count >= 4: return Self.u32(self.payload, 0)
            case FrameType.goAway.rawValue where self.payload.count >= 8: return Self.u32(self.payload, 4)
            default: return nil
            }
        }

        static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
            bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    static func frame(_ type: FrameType, flags: UInt8 = 0, stream: UInt32 = 0, _ payload: [UInt8] = []) -> [UInt8] {
        let length = payload.count
        var bytes = [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type.rawValue, flags]
        bytes += withUnsafeBytes(of: (stream & 0x7fff_ffff).bigEndian, Array.init)
        return bytes + payload
    }

    static let endStream: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4

    /// A request field block in HPACK (RFC 7541): indexed static entries for :method GET or
    /// POST, :scheme https, :path /, and the authority as a literal without indexing.
    static func request(path: String = "/", method: String = "GET", authority: String, extra: [(String, String)] = []) -> [UInt8] {
        var block: [UInt8] = [method == "POST" ? 0x83 : 0x82, 0x87]
        if path == "/" {
            block.append(0x84)
        } else {
            block += [0x04] + self.string(path)
        }
        block += [0x01] + self.string(authority)
        for (name, value) in extra { block += [0x00] + self.string(name) + self.string(value) }
        return block
    }

    private static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        precondition(bytes.count < 127)
        return [UInt8(bytes.count)] + bytes
    }

    static func headers(stream: UInt32, _ block: [UInt8], endStream: Bool = true) -> [UInt8] {
        self.frame(.headers, flags: self.endHeaders | (endStream ? self.endStream : 0), stream: stream, block)
    }

    static func rstStream(stream: UInt32, code: UInt32 = 8) -> [UInt8] {
        self.frame(.rstStream, stream: stream, withUnsafeBytes(of: code.bigEndian, Array.init))
    }

    static func windowUpdate(stream: UInt32, increment: UInt32) -> [UInt8] {
        self.frame(.windowUpdate, stream: stream, withUnsafeBytes(of: increment.bigEndian, Array.init))
    }

    /// The client's opening: preface, empty SETTINGS, and an ACK of the server's SETTINGS
    /// (which the server sends as soon as TLS is up, before reading anything).
    static let opening = preface + frame(.settings) + frame(.settings, flags: 0x1)

    static func parse(_ data: Data) -> [Frame] {
        let bytes = [UInt8](data)
        var frames: [Frame] = []
        var at = 0
        while at + 9 <= bytes.count {
            let length = Int(bytes[at]) << 16 | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
            guard at + 9 + length <= bytes.count else { break }
            frames.append(Frame(type: bytes[at + 3], flags: bytes[at + 4], stream: Frame.u32(bytes, at + 5) & 0x7fff_ffff,
                                payload: Array(bytes[at + 9..<at + 9 + length])))
            at += 9 + length
        }
        return frames
    }
}

extension BerthProcess {
    /// Sends raw HTTP/2 bytes over TLS (ALPN h2) and returns the server's frames, read until the
    /// server closes or `wait` seconds pass (then the client is stopped: `-quiet` never ends
    /// on its own).
    func h2Exchange(_ bytes: [UInt8], serverName: String = "alpha.test", wait: TimeInterval = 3) throws -> [H2.Frame] {
        let output = try Tool.execute(Tool.openssl, [
            "s_client", "-quiet", "-alpn", "h2", "-servername", serverName,
            "-connect", "127.0.0.1:\(self.securePort)",
        ], input: Data(bytes), keepInputOpen: wait, timeout: wait)
        return H2.parse(output.stdout)
    }
}
