import Foundation

/// A WebSocket client over a raw socket, for what a well-behaved client never sends (unmasked
/// frames, text that is not UTF-8) and for holding a connection across a reload byte by byte.
final class WebSocketWire {
    struct Frame: Equatable {
        var fin = true
        var opcode: UInt8
        var payload: [UInt8]

        /// The status code of a close frame (1005 when it has none, as RFC 6455 §7.1.5 says).
        var closeCode: Int? {
            guard opcode == 0x8 else { return nil }
            return payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
        }
    }

    let connection: RawConnection
    /// The handshake's answer.
    let response: WireResponse

    /// Connects and sends the opening handshake; `response` is the server's answer (101 when
    /// it accepted). `early` frames go in the same write as the handshake.
    init(port: Int, path: String = "/ws/echo", host: String = "localhost", timeout: TimeInterval = 10, early: [Frame] = []) throws {
        self.connection = try RawConnection(port: port, timeout: timeout)
        try self.connection.send(Array("""
            GET \(path) HTTP/1.1\r
            Host: \(host)\r
            Upgrade: websocket\r
            Connection: Upgrade\r
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
            Sec-WebSocket-Version: 13\r
            \r

            """.utf8) + early.flatMap { Self.encode($0, masked: true) })
        self.response = try self.connection.readResponse()
    }

    /// Sends one frame, masked as a client must unless `masked` is false.
    func send(_ frame: Frame, masked: Bool = true) throws {
        try self.connection.send(Self.encode(frame, masked: masked))
    }

    static func encode(_ frame: Frame, masked: Bool) -> [UInt8] {
        var bytes: [UInt8] = [(frame.fin ? 0x80 : 0) | frame.opcode]
        let mask: UInt8 = masked ? 0x80 : 0
        switch frame.payload.count {
        case 0..<126:
            bytes.append(mask | UInt8(frame.payload.count))
        case 126...0xFFFF:
            bytes.append(mask | 126)
            bytes += [UInt8(frame.payload.count >> 8), UInt8(frame.payload.count & 0xFF)]
        default:
            bytes.append(mask | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: frame.payload.count >> ($0 * 8)) }
        }
        if masked {
            let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
            bytes += key
            bytes += frame.payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        } else {
            bytes += frame.payload
        }
        return bytes
    }

    func sendText(_ text: String) throws { try self.send(Frame(opcode: 0x1, payload: Array(text.utf8))) }

    /// The next frame from the server (which never masks).
    func receive() throws -> Frame {
        let head = try self.connection.read(count: 2)
        var length = Int(head[1] & 0x7F)
        if length == 126 {
            length = try self.connection.read(count: 2).reduce(0) { $0 << 8 | Int($1) }
        } else if length == 127 {
            length = try self.connection.read(count: 8).reduce(0) { $0 << 8 | Int($1) }
        }
        return Frame(fin: head[0] & 0x80 != 0, opcode: head[0] & 0x0F, payload: try self.connection.read(count: length))
    }

    /// Sends `text` and returns what came back.
    func echo(_ text: String) throws -> String {
        try self.sendText(text)
        let frame = try self.receive()
        return String(decoding: frame.payload, as: UTF8.self)
    }
}

/// Python's `websockets` client (Debian's python3-websockets), as a real-world peer.
enum PythonWebSocket {
    static let python = "/usr/bin/python3"

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `body`, an async Python function body with `ws` connected to `url`; what it prints
    /// comes back. `connect` adds keyword arguments to `websockets.connect`.
    static func run(url: String, connect: String = "", _ body: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python),
              (try? Tool.execute(python, ["-c", "import websockets"]).status) == 0
        else {
            throw Missing(description: "Python's websockets module is not installed; apt-get install python3-websockets, as .ci/run does")
        }
        let indented = body.split(separator: "\n", omittingEmptySubsequences: false).map { "        " + $0 }.joined(separator: "\n")
        let script = """
            import asyncio, sys, websockets
            async def main():
                async with websockets.connect(sys.argv[1]\(connect.isEmpty ? "" : ", " + connect)) as ws:
            \(indented)
            asyncio.run(main())
            """
        let output = try Tool.execute(python, ["-c", script, url], timeout: 60)
        guard output.status == 0 else {
            throw Tool.Failed(command: "python3 websockets client", status: output.status, output: output.text + output.stderr)
        }
        return output.text
    }
}
