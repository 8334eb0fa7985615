import Foundation

/// A parsed HTTP/1.1 response as it came off the wire.
struct WireResponse: CustomStringConvertible {
    var status: Int
    var reason: String
    var version: String
    /// Names lowercased, in order.
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return self.headers.first { $0.0 == lower }?.1
    }

    func headers(_ name: String) -> [String] {
        let lower = name.lowercased()
        return self.headers.filter { $0.0 == lower }.map(\.1)
    }

    var text: String { String(decoding: self.body, as: UTF8.self) }

    var description: String {
        "\(self.version) \(self.status) \(self.reason)\n" + self.headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
            + "\n\n" + self.text.prefix(400)
    }
}

enum WireError: Error {
    case connectFailed(Int32)
    case closedBeforeResponse(received: Int)
    case malformed(String)
    case timedOut
}

/// A blocking TCP connection for tests that must control every byte: malformed requests,
/// pipelining, trickling, half-written heads.
final class RawConnection {
    let fd: Int32
    private var pending: [UInt8] = []

    /// `receiveBuffer`: the socket's receive buffer, set before connecting so that the window
    /// offered to the server is bounded by it.
    init(port: Int, host: String = "127.0.0.1", timeout: TimeInterval = 10, receiveBuffer: Int? = nil) throws {
        let isV6 = host.contains(":")
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WireError.connectFailed(errno) }
        self.fd = fd
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        if isV6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &addr.sin6_addr)
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &addr.sin_addr)
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw WireError.connectFailed(error)
        }
    }

    deinit { close(self.fd) }

    func send(_ text: String) throws { try self.send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw WireError.connectFailed(errno) }
            offset += n
        }
    }

    /// Reads more bytes; false on EOF or reset. Throws on timeout.
    private func fill() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            self.pending.append(contentsOf: buffer[0..<n])
            return true
        }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw WireError.timedOut }
        return false
    }

    /// Blocks until the first bytes of a response arrived (they stay buffered for
    /// `readResponse`).
    func waitForFirstBytes() throws {
        while self.pending.isEmpty {
            guard try self.fill() else { throw WireError.closedBeforeResponse(received: 0) }
        }
    }

    /// True when the server closed the connection (EOF or reset) within the timeout.
    func isClosedByPeer() -> Bool {
        do {
            while try self.fill() { self.pending.removeAll() }
            return true
        } catch {
            return false
        }
    }

    /// Reads one response. `isHeadRequest` skips the body a HEAD response announces.
    func readResponse(isHeadRequest: Bool = false) throws -> WireResponse {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find([13, 10, 13, 10], in: self.pending)
            if headEnd == nil {
                guard try self.fill() else { throw WireError.closedBeforeResponse(received: self.pending.count) }
            }
        }
        let headText = String(decoding: self.pending[0..<headEnd!], as: UTF8.self)
        self.pending.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2).map(String.init)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw WireError.malformed(headText) }
        var response = WireResponse(
            status: status, reason: statusLine.count > 2 ? statusLine[2] : "", version: statusLine[0], headers: [], body: [])
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw WireError.malformed(line) }
            response.headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        if isHeadRequest || status == 304 || status == 204 || (100..<200).contains(status) { return response }
        if let length = response.header("content-length").flatMap(Int.init) {
            while self.pending.count < length {
                guard try self.fill() else { throw WireError.closedBeforeResponse(received: self.pending.count) }
            }
            response.body = Array(self.pending[0..<length])
            self.pending.removeFirst(length)
        } else if response.header("transfer-encoding")?.lowercased() == "chunked" {
            response.body = try self.readChunked()
        } else {
            while try self.fill() {}
            response.body = self.pending
            self.pending.removeAll()
        }
        return response
    }

    /// Exactly `count` bytes, after whatever a response left buffered (a WebSocket's frames).
    func read(count: Int) throws -> [UInt8] {
        while self.pending.count < count {
            guard try self.fill() else { throw WireError.closedBeforeResponse(received: self.pending.count) }
        }
        defer { self.pending.removeFirst(count) }
        return Array(self.pending[0..<count])
    }

    private func readLine() throws -> String {
        while true {
            if let end = Self.find([13, 10], in: self.pending) {
                let line = String(decoding: self.pending[0..<end], as: UTF8.self)
                self.pending.removeFirst(end + 2)
                return line
            }
            guard try self.fill() else { throw WireError.closedBeforeResponse(received: self.pending.count) }
        }
    }

    private func readChunked() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try self.readLine()
            guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw WireError.malformed(sizeLine) }
            if size == 0 {
                while try !self.readLine().isEmpty {}
                return body
            }
            while self.pending.count < size + 2 {
                guard try self.fill() else { throw WireError.closedBeforeResponse(received: self.pending.count) }
            }
            body.append(contentsOf: self.pending[0..<size])
            self.pending.removeFirst(size + 2)
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

extension BerthProcess {
    /// One request on a fresh connection.
    func request(
        _ path: String, method: String = "GET", host: String = "localhost", headers: [String: String] = [:],
        body: String? = nil
    ) throws -> WireResponse {
        let connection = try RawConnection(port: self.port)
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        try connection.send(text)
        return try connection.readResponse(isHeadRequest: method == "HEAD")
    }

    /// A raw request text on a fresh connection; returns the first response.
    func raw(_ text: String) throws -> WireResponse {
        let connection = try RawConnection(port: self.port)
        try connection.send(text)
        return try connection.readResponse()
    }
}

/// Runs a command-line client (curl, openssl) and returns its output.
@discardableResult
func runTool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
