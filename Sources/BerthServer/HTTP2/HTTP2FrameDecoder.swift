import NIOCore

/// The frames a client sends on an HTTP/2 connection (RFC 9113 §4, §6), cut from the byte
/// stream with every framing rule of the RFC checked, and no I/O: `HTTP2ConnectionState`
/// acts on what comes out.
///
/// - The client connection preface (§3.4) comes first, then a SETTINGS frame.
/// - A frame larger than our SETTINGS_MAX_FRAME_SIZE is refused from its header alone, so at
///   most one maximum-size frame is ever buffered (§4.2).
/// - HEADERS and its CONTINUATION frames come out as one field block (§4.3); the block is
///   capped, so a CONTINUATION flood cannot grow memory.
/// - Padding is removed (§6.1), PRIORITY fields in HEADERS are skipped, frame types this
///   server does not know are dropped (§4.1).
/// - DATA payloads are slices of the input, never copies.
struct HTTP2FrameDecoder: Sendable {
    enum Frame: Equatable, Sendable {
        /// `flowControlledLength` is the whole frame payload, padding included: that is what
        /// counts against flow-control windows (§6.9.1), while `payload` is only the data.
        case data(streamID: UInt32, payload: ByteBuffer, endStream: Bool, flowControlledLength: Int)
        /// A complete field block, from HEADERS and any CONTINUATION frames; still HPACK-coded.
        case headers(streamID: UInt32, fieldBlock: ByteBuffer, endStream: Bool)
        case priority(streamID: UInt32)
        case rstStream(streamID: UInt32, code: HTTP2ErrorCode)
        case settings(HTTP2SettingsList)
        case settingsAck
        case ping(opaque: UInt64)
        case pingAck(opaque: UInt64)
        case goAway(lastStreamID: UInt32, code: HTTP2ErrorCode)
        case windowUpdate(streamID: UInt32, increment: UInt32)
    }

    /// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4).
    static let clientPreface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private enum Phase {
        case preface
        /// §3.4: the preface is followed by a SETTINGS frame, and only by one.
        case firstSettings
        case frames
    }

    /// A field block whose END_HEADERS has not arrived yet (§6.10).
    private struct PendingBlock {
        var streamID: UInt32
        var endStream: Bool
        var block: ByteBuffer
    }

    /// The SETTINGS_MAX_FRAME_SIZE this server advertises.
    let maxFrameSize: Int
    /// A field block (HEADERS plus CONTINUATIONs, still compressed) larger than this is a
    /// connection error: the block has to be decoded to keep the HPACK context in step, so it
    /// cannot be skipped, and it cannot be allowed to grow without end either.
    let maxFieldBlockBytes: Int
    private var phase = Phase.preface
    private var pending: PendingBlock?

    init(maxFrameSize: Int = HTTP2Limits.defaultMaxFrameSize, maxFieldBlockBytes: Int) {
        self.maxFrameSize = maxFrameSize
        self.maxFieldBlockBytes = maxFieldBlockBytes
    }

    /// The next frame, consuming its bytes from `buffer`; nil (having consumed at most the
    /// preface) while `buffer` does not hold a whole frame.
    mutating func next(from buffer: inout ByteBuffer) throws(HTTP2ConnectionError) -> Frame? {
        if self.phase == .preface {
            guard try Self.readPreface(from: &buffer) else { return nil }
            self.phase = .firstSettings
        }
        while true {
            let start = buffer.readerIndex
            guard buffer.readableBytes >= HTTP2Limits.frameHeaderLength,
                let lengthAndType = buffer.getInteger(at: start, as: UInt32.self),
                let flags = buffer.getInteger(at: start + 4, as: UInt8.self),
                let rawStreamID = buffer.getInteger(at: start + 5, as: UInt32.self)
            else { return nil }
            let length = Int(lengthAndType >> 8)
            let type = UInt8(truncatingIfNeeded: lengthAndType)
            // §4.1: the reserved bit is ignored on receipt.
            let streamID = rawStreamID & HTTP2Limits.maxStreamID
            guard length <= self.maxFrameSize else {
                throw HTTP2ConnectionError(.frameSizeError, "frame of \(length) bytes exceeds SETTINGS_MAX_FRAME_SIZE")
            }
            guard buffer.readableBytes >= HTTP2Limits.frameHeaderLength + length else { return nil }
            buffer.moveReaderIndex(forwardBy: HTTP2Limits.frameHeaderLength)
            let payload = buffer.readSlice(length: length)!

            if self.phase == .firstSettings {
                guard type == HTTP2FrameType.settings, flags & HTTP2FrameFlags.ack == 0 else {
                    throw HTTP2ConnectionError(.protocolError, "the connection preface must be followed by SETTINGS")
                }
                self.phase = .frames
            }
            if let pending = self.pending, type != HTTP2FrameType.continuation || streamID != pending.streamID {
                // §6.10: nothing may come between HEADERS and its last CONTINUATION.
                throw HTTP2ConnectionError(.protocolError, "expected CONTINUATION for stream \(pending.streamID)")
            }
            if let frame = try self.frame(type: type, flags: flags, streamID: streamID, payload: payload) {
                return frame
            }
        }
    }

    /// Checks the preface as its bytes arrive, so a client speaking something else is refused
    /// at its first wrong byte; true once the whole preface was consumed.
    private static func readPreface(from buffer: inout ByteBuffer) throws(HTTP2ConnectionError) -> Bool {
        let count = min(buffer.readableBytes, Self.clientPreface.count)
        let matches = buffer.withUnsafeReadableBytes { bytes in
            bytes.prefix(count).elementsEqual(Self.clientPreface.prefix(count))
        }
        guard matches else { throw HTTP2ConnectionError(.protocolError, "invalid connection preface") }
        guard count == Self.clientPreface.count else { return false }
        buffer.moveReaderIndex(forwardBy: count)
        return true
    }

    /// One frame's meaning; nil for frames that carry nothing for the connection (unknown
    /// types, CONTINUATION before END_HEADERS).
    private mutating func frame(type: UInt8, flags: UInt8, streamID: UInt32, payload: ByteBuffer) throws(HTTP2ConnectionError) -> Frame? {
        var payload = payload
        let length = payload.readableBytes
        switch type {
        case HTTP2FrameType.data:
            try Self.requireStream(streamID, "DATA")
            try Self.removePadding(from: &payload, flags: flags, fieldsBeforeData: 0, frame: "DATA")
            return .data(streamID: streamID, payload: payload, endStream: flags & HTTP2FrameFlags.endStream != 0, flowControlledLength: length)

        case HTTP2FrameType.headers:
            try Self.requireStream(streamID, "HEADERS")
            let hasPriority = flags & HTTP2FrameFlags.priority != 0
            try Self.removePadding(from: &payload, flags: flags, fieldsBeforeData: hasPriority ? 5 : 0, frame: "HEADERS")
            // Stream dependency and weight: RFC 9113 §5.3.2 deprecates the scheme; skipped, but
            // a stream that depends on itself is still an error (RFC 7540 §5.3.1), treated as
            // one of the connection as §5.4 allows.
            if hasPriority {
                try Self.refuseSelfDependency(payload, streamID: streamID)
                payload.moveReaderIndex(forwardBy: 5)
            }
            let endStream = flags & HTTP2FrameFlags.endStream != 0
            if flags & HTTP2FrameFlags.endHeaders != 0 {
                try self.checkBlockSize(payload.readableBytes)
                return .headers(streamID: streamID, fieldBlock: payload, endStream: endStream)
            }
            try self.checkBlockSize(payload.readableBytes)
            var block = ByteBufferAllocator().buffer(capacity: payload.readableBytes * 2)
            block.writeImmutableBuffer(payload)
            self.pending = PendingBlock(streamID: streamID, endStream: endStream, block: block)
            return nil

        case HTTP2FrameType.continuation:
            guard var pending = self.pending else {
                throw HTTP2ConnectionError(.protocolError, "CONTINUATION without HEADERS")
            }
            try self.checkBlockSize(pending.block.readableBytes + payload.readableBytes)
            self.pending = nil
            pending.block.writeImmutableBuffer(payload)
            if flags & HTTP2FrameFlags.endHeaders != 0 {
                return .headers(streamID: pending.streamID, fieldBlock: pending.block, endStream: pending.endStream)
            }
            self.pending = pending
            return nil

        case HTTP2FrameType.priority:
            try Self.requireStream(streamID, "PRIORITY")
            // §6.3 calls a wrong length a stream error; §5.4 lets any stream error be treated
            // as a connection error, and a client that cannot frame PRIORITY is not one to keep.
            try Self.requireLength(length, 5, "PRIORITY")
            try Self.refuseSelfDependency(payload, streamID: streamID)
            return .priority(streamID: streamID)

        case HTTP2FrameType.rstStream:
            try Self.requireStream(streamID, "RST_STREAM")
            try Self.requireLength(length, 4, "RST_STREAM")
            return .rstStream(streamID: streamID, code: HTTP2ErrorCode(rawValue: payload.readInteger(as: UInt32.self)!))

        case HTTP2FrameType.settings:
            try Self.requireConnection(streamID, "SETTINGS")
            if flags & HTTP2FrameFlags.ack != 0 {
                try Self.requireLength(length, 0, "SETTINGS with ACK")
                return .settingsAck
            }
            guard length % 6 == 0 else {
                throw HTTP2ConnectionError(.frameSizeError, "SETTINGS length \(length) is not a multiple of 6")
            }
            return .settings(HTTP2SettingsList(payload: payload))

        case HTTP2FrameType.pushPromise:
            // §8.4: a client cannot push.
            throw HTTP2ConnectionError(.protocolError, "PUSH_PROMISE from a client")

        case HTTP2FrameType.ping:
            try Self.requireConnection(streamID, "PING")
            try Self.requireLength(length, 8, "PING")
            let opaque = payload.readInteger(as: UInt64.self)!
            return flags & HTTP2FrameFlags.ack != 0 ? .pingAck(opaque: opaque) : .ping(opaque: opaque)

        case HTTP2FrameType.goAway:
            try Self.requireConnection(streamID, "GOAWAY")
            guard length >= 8 else { throw HTTP2ConnectionError(.frameSizeError, "GOAWAY shorter than 8 bytes") }
            let lastStreamID = payload.readInteger(as: UInt32.self)! & HTTP2Limits.maxStreamID
            return .goAway(lastStreamID: lastStreamID, code: HTTP2ErrorCode(rawValue: payload.readInteger(as: UInt32.self)!))

        case HTTP2FrameType.windowUpdate:
            try Self.requireLength(length, 4, "WINDOW_UPDATE")
            let increment = payload.readInteger(as: UInt32.self)! & HTTP2Limits.maxStreamID
            return .windowUpdate(streamID: streamID, increment: increment)

        default:
            // §4.1: frames of unknown types are ignored.
            return nil
        }
    }

    private func checkBlockSize(_ size: Int) throws(HTTP2ConnectionError) {
        guard size <= self.maxFieldBlockBytes else {
            throw HTTP2ConnectionError(.enhanceYourCalm, "field block over \(self.maxFieldBlockBytes) bytes")
        }
    }

    /// §6.1, §6.2: a Pad Length leaving no room for the fields before the data is a
    /// FRAME_SIZE_ERROR (the frame is too small for its mandatory parts, §4.2); padding that
    /// reaches into them is a PROTOCOL_ERROR.
    private static func removePadding(from payload: inout ByteBuffer, flags: UInt8, fieldsBeforeData: Int, frame: String) throws(HTTP2ConnectionError) {
        guard flags & HTTP2FrameFlags.padded != 0 else {
            guard payload.readableBytes >= fieldsBeforeData else {
                throw HTTP2ConnectionError(.frameSizeError, "\(frame) too short for its priority fields")
            }
            return
        }
        guard let padLength = payload.readInteger(as: UInt8.self), payload.readableBytes >= fieldsBeforeData else {
            throw HTTP2ConnectionError(.frameSizeError, "\(frame) too short for its padding fields")
        }
        guard Int(padLength) <= payload.readableBytes - fieldsBeforeData else {
            throw HTTP2ConnectionError(.protocolError, "\(frame) padding exceeds its payload")
        }
        payload.moveWriterIndex(to: payload.writerIndex - Int(padLength))
    }

    /// §6.1–§6.4, §6.10: these frames belong to a stream.
    private static func refuseSelfDependency(_ payload: ByteBuffer, streamID: UInt32) throws(HTTP2ConnectionError) {
        guard let dependency = payload.getInteger(at: payload.readerIndex, as: UInt32.self), dependency & 0x7fff_ffff == streamID else { return }
        throw HTTP2ConnectionError(.protocolError, "stream \(streamID) depends on itself")
    }

    private static func requireStream(_ streamID: UInt32, _ frame: String) throws(HTTP2ConnectionError) {
        guard streamID != 0 else { throw HTTP2ConnectionError(.protocolError, "\(frame) on stream 0") }
    }

    /// §6.5, §6.7, §6.8: these frames belong to the connection.
    private static func requireConnection(_ streamID: UInt32, _ frame: String) throws(HTTP2ConnectionError) {
        guard streamID == 0 else { throw HTTP2ConnectionError(.protocolError, "\(frame) on stream \(streamID)") }
    }

    /// §6.4, §6.5, §6.7, §6.9: fixed lengths; a wrong one is a connection error, so a PING of
    /// the wrong size closes the connection.
    private static func requireLength(_ length: Int, _ expected: Int, _ frame: String) throws(HTTP2ConnectionError) {
        guard length == expected else {
            throw HTTP2ConnectionError(.frameSizeError, "\(frame) of \(length) bytes, expected \(expected)")
        }
    }
}
