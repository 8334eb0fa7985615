import NIOCore

/// An HTTP/2 error code (RFC 9113 §7), as carried by RST_STREAM and GOAWAY. A struct rather
/// than an enum because a peer may send codes this server does not know, which §7 says must
/// not trigger special behavior: they still have to be representable.
struct HTTP2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    var rawValue: UInt32

    init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    static let noError = HTTP2ErrorCode(rawValue: 0x0)
    static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    static let connectError = HTTP2ErrorCode(rawValue: 0xa)
    static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xb)
    static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xc)
    static let http11Required = HTTP2ErrorCode(rawValue: 0xd)

    var description: String {
        switch self.rawValue {
        case 0x0: "NO_ERROR"
        case 0x1: "PROTOCOL_ERROR"
        case 0x2: "INTERNAL_ERROR"
        case 0x3: "FLOW_CONTROL_ERROR"
        case 0x4: "SETTINGS_TIMEOUT"
        case 0x5: "STREAM_CLOSED"
        case 0x6: "FRAME_SIZE_ERROR"
        case 0x7: "REFUSED_STREAM"
        case 0x8: "CANCEL"
        case 0x9: "COMPRESSION_ERROR"
        case 0xa: "CONNECT_ERROR"
        case 0xb: "ENHANCE_YOUR_CALM"
        case 0xc: "INADEQUATE_SECURITY"
        case 0xd: "HTTP_1_1_REQUIRED"
        default: "0x" + String(self.rawValue, radix: 16)
        }
    }
}

/// A connection error (RFC 9113 §5.4.1): the connection is answered with GOAWAY carrying
/// `code` and closed. `reason` goes into the GOAWAY's debug data and the error log.
struct HTTP2ConnectionError: Error, Equatable, Sendable {
    var code: HTTP2ErrorCode
    var reason: String

    init(_ code: HTTP2ErrorCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// A stream error (RFC 9113 §5.4.2): one stream is reset with RST_STREAM, the connection and
/// its other streams carry on.
struct HTTP2StreamError: Error, Equatable, Sendable {
    var streamID: UInt32
    var code: HTTP2ErrorCode

    init(streamID: UInt32, _ code: HTTP2ErrorCode) {
        self.streamID = streamID
        self.code = code
    }
}

/// Frame types (RFC 9113 §6) and flags, as they appear in the 9-byte frame header (§4.1).
enum HTTP2FrameType {
    static let data: UInt8 = 0x0
    static let headers: UInt8 = 0x1
    static let priority: UInt8 = 0x2
    static let rstStream: UInt8 = 0x3
    static let settings: UInt8 = 0x4
    static let pushPromise: UInt8 = 0x5
    static let ping: UInt8 = 0x6
    static let goAway: UInt8 = 0x7
    static let windowUpdate: UInt8 = 0x8
    static let continuation: UInt8 = 0x9
}

enum HTTP2FrameFlags {
    static let endStream: UInt8 = 0x1
    /// The same bit means ACK on SETTINGS and PING.
    static let ack: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4
    static let padded: UInt8 = 0x8
    static let priority: UInt8 = 0x20
}

/// Protocol constants that several parts of the frame layer share.
enum HTTP2Limits {
    /// The size of every frame header (RFC 9113 §4.1).
    static let frameHeaderLength = 9
    /// SETTINGS_MAX_FRAME_SIZE: the initial value, and the only one this server advertises, so
    /// no peer frame is ever buffered beyond 16 KiB (§4.2). Also the lower bound of the range
    /// a peer may announce; 2^24−1 is the upper one (§6.5.2).
    static let defaultMaxFrameSize = 16_384
    static let largestMaxFrameSize = 16_777_215
    /// Flow-control windows start at 65 535 and never exceed 2^31−1 (§6.9, §6.9.1).
    static let defaultWindowSize = 65_535
    static let maxWindowSize = 2_147_483_647
    /// The largest stream identifier (31 bits), used by the first GOAWAY of a graceful
    /// shutdown (§6.8).
    static let maxStreamID: UInt32 = 0x7fff_ffff
}

/// One parameter of a SETTINGS frame (RFC 9113 §6.5.1).
struct HTTP2SettingsEntry: Equatable, Sendable {
    var identifier: UInt16
    var value: UInt32

    init(_ identifier: UInt16, _ value: UInt32) {
        self.identifier = identifier
        self.value = value
    }

    // Defined settings (§6.5.2).
    static let headerTableSize: UInt16 = 0x1
    static let enablePush: UInt16 = 0x2
    static let maxConcurrentStreams: UInt16 = 0x3
    static let initialWindowSize: UInt16 = 0x4
    static let maxFrameSize: UInt16 = 0x5
    static let maxHeaderListSize: UInt16 = 0x6
}

/// The parameters of a received SETTINGS frame, read from the payload as it is iterated, so
/// that decoding a SETTINGS frame allocates nothing.
struct HTTP2SettingsList: Sequence, Equatable, Sendable {
    /// The payload: a multiple of 6 bytes, checked by the decoder.
    var payload: ByteBuffer

    init(payload: ByteBuffer) {
        self.payload = payload
    }

    struct Iterator: IteratorProtocol {
        var payload: ByteBuffer

        mutating func next() -> HTTP2SettingsEntry? {
            guard let identifier = self.payload.readInteger(as: UInt16.self),
                let value = self.payload.readInteger(as: UInt32.self)
            else { return nil }
            return HTTP2SettingsEntry(identifier, value)
        }
    }

    func makeIterator() -> Iterator {
        Iterator(payload: self.payload)
    }
}
