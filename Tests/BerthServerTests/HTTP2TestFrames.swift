import NIOCore
import NIOHPACK

@testable import BerthServer

/// Client-side frames for the HTTP/2 tests, built byte by byte so that tests can also build
/// frames the server's writer never would.
enum ClientFrames {
    static var preface: ByteBuffer { ByteBuffer(bytes: HTTP2FrameDecoder.clientPreface) }

    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8] = []) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(payload.count) << 8 | UInt32(type))
        buffer.writeInteger(flags)
        buffer.writeInteger(stream)
        buffer.writeBytes(payload)
        return buffer
    }

    static func settings(_ entries: [(UInt16, UInt32)] = []) -> ByteBuffer {
        var payload: [UInt8] = []
        for (identifier, value) in entries {
            payload += [UInt8(identifier >> 8), UInt8(identifier & 0xff)]
            payload += withUnsafeBytes(of: value.bigEndian, Array.init)
        }
        return Self.frame(type: HTTP2FrameType.settings, stream: 0, payload: payload)
    }

    static func data(stream: UInt32, _ bytes: [UInt8], endStream: Bool = false) -> ByteBuffer {
        Self.frame(type: HTTP2FrameType.data, flags: endStream ? 0x1 : 0, stream: stream, payload: bytes)
    }

    static func u32(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    static func u64(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    /// Preface plus an empty SETTINGS frame: what every connection starts with.
    static var opening: ByteBuffer {
        var buffer = Self.preface
        buffer.writeImmutableBuffer(Self.settings())
        return buffer
    }
}

/// A client's HPACK encoder (NIOHPACK's, with its dynamic table and Huffman coding), so the
/// server's decoding context is exercised as a real client would.
struct ClientEncoder {
    var encoder = HPACKEncoder(allocator: ByteBufferAllocator())

    mutating func block(_ fields: [(String, String)]) -> ByteBuffer {
        var buffer = ByteBuffer()
        try! self.encoder.encode(headers: HPACKHeaders(fields), to: &buffer)
        return buffer
    }

    mutating func request(_ path: String = "/", method: String = "GET", _ extra: [(String, String)] = []) -> ByteBuffer {
        self.block([(":method", method), (":scheme", "https"), (":path", path), (":authority", "example.test")] + extra)
    }
}

/// Splits server output into frames for assertions.
struct ServerFrame: Equatable {
    var type: UInt8
    var flags: UInt8
    var stream: UInt32
    var payload: [UInt8]

    static func parse(_ buffer: ByteBuffer) -> [ServerFrame] {
        var buffer = buffer
        var frames: [ServerFrame] = []
        while buffer.readableBytes >= 9 {
            let lengthAndType = buffer.readInteger(as: UInt32.self)!
            let flags = buffer.readInteger(as: UInt8.self)!
            let stream = buffer.readInteger(as: UInt32.self)!
            // A DATA header written without its payload (the caller's to write) ends the parse.
            let payload = buffer.readBytes(length: min(Int(lengthAndType >> 8), buffer.readableBytes))!
            frames.append(ServerFrame(type: UInt8(lengthAndType & 0xff), flags: flags, stream: stream, payload: payload))
        }
        return frames
    }

    var errorCode: HTTP2ErrorCode? {
        switch self.type {
        case HTTP2FrameType.rstStream: HTTP2ErrorCode(rawValue: Self.u32(self.payload, at: 0))
        case HTTP2FrameType.goAway: HTTP2ErrorCode(rawValue: Self.u32(self.payload, at: 4))
        default: nil
        }
    }

    /// GOAWAY's last stream, WINDOW_UPDATE's increment.
    var firstWord: UInt32 { Self.u32(self.payload, at: 0) }

    static func u32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
