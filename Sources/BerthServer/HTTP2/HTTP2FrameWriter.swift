import NIOCore

/// The frames a server sends (RFC 9113 §6), appended to a buffer that the connection writes
/// as a whole, so the frames of one flush leave in one write.
///
/// A DATA frame is written as its 9-byte header only: the caller writes the payload right
/// after it, so a payload can be a slice of a cached file or a file region and is never
/// copied into the frame.
enum HTTP2FrameWriter {
    /// §4.1: length (24 bits), type, flags, reserved bit and stream identifier.
    static func writeFrameHeader(length: Int, type: UInt8, flags: UInt8, streamID: UInt32, into buffer: inout ByteBuffer) {
        precondition(length <= HTTP2Limits.largestMaxFrameSize, "frame payload too large")
        buffer.writeInteger(UInt32(length) << 8 | UInt32(type))
        buffer.writeInteger(flags)
        buffer.writeInteger(streamID & HTTP2Limits.maxStreamID)
    }

    /// §6.5: our settings, in the order given.
    static func writeSettings(_ entries: [HTTP2SettingsEntry], into buffer: inout ByteBuffer) {
        Self.writeFrameHeader(length: 6 * entries.count, type: HTTP2FrameType.settings, flags: 0, streamID: 0, into: &buffer)
        for entry in entries {
            buffer.writeInteger(entry.identifier)
            buffer.writeInteger(entry.value)
        }
    }

    /// §6.5.3: the acknowledgment every SETTINGS frame of the peer gets.
    static func writeSettingsAck(into buffer: inout ByteBuffer) {
        Self.writeFrameHeader(length: 0, type: HTTP2FrameType.settings, flags: HTTP2FrameFlags.ack, streamID: 0, into: &buffer)
    }

    /// §6.7: a PING of our own; the graceful shutdown uses one to learn when the client has
    /// seen its first GOAWAY.
    static func writePing(opaque: UInt64, into buffer: inout ByteBuffer) {
        Self.writeFrameHeader(length: 8, type: HTTP2FrameType.ping, flags: 0, streamID: 0, into: &buffer)
        buffer.writeInteger(opaque)
    }

    /// §6.7: the answer to a peer's PING, carrying the same opaque data.
    static func writePingAck(opaque: UInt64, into buffer: inout ByteBuffer) {
        Self.writeFrameHeader(length: 8, type: HTTP2FrameType.ping, flags: HTTP2FrameFlags.ack, streamID: 0, into: &buffer)
        buffer.writeInteger(opaque)
    }

    /// §6.8: `debugData` says why, for whoever reads the client's logs; it holds no secrets.
    static func writeGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String = "", into buffer: inout ByteBuffer) {
        let debug = debugData.utf8
        Self.writeFrameHeader(length: 8 + debug.count, type: HTTP2FrameType.goAway, flags: 0, streamID: 0, into: &buffer)
        buffer.writeInteger(lastStreamID & HTTP2Limits.maxStreamID)
        buffer.writeInteger(code.rawValue)
        buffer.writeBytes(debug)
    }

    /// §6.4.
    static func writeRSTStream(streamID: UInt32, code: HTTP2ErrorCode, into buffer: inout ByteBuffer) {
        Self.writeFrameHeader(length: 4, type: HTTP2FrameType.rstStream, flags: 0, streamID: streamID, into: &buffer)
        buffer.writeInteger(code.rawValue)
    }

    /// §6.9: `streamID` 0 for the connection window. The increment must be 1…2^31−1.
    static func writeWindowUpdate(streamID: UInt32, increment: Int, into buffer: inout ByteBuffer) {
        precondition(increment > 0 && increment <= HTTP2Limits.maxWindowSize, "invalid window increment")
        Self.writeFrameHeader(length: 4, type: HTTP2FrameType.windowUpdate, flags: 0, streamID: streamID, into: &buffer)
        buffer.writeInteger(UInt32(increment))
    }

    /// §6.2, §6.10: a field block as one HEADERS frame, or as HEADERS followed by
    /// CONTINUATION frames when it exceeds the peer's SETTINGS_MAX_FRAME_SIZE. END_STREAM goes
    /// on the HEADERS frame, END_HEADERS on the last one.
    static func writeHeaders(streamID: UInt32, fieldBlock: ByteBuffer, endStream: Bool, maxFrameSize: Int, into buffer: inout ByteBuffer) {
        var rest = fieldBlock
        var type = HTTP2FrameType.headers
        var flags = endStream ? HTTP2FrameFlags.endStream : 0
        repeat {
            let fragment = rest.readSlice(length: min(rest.readableBytes, maxFrameSize))!
            if rest.readableBytes == 0 { flags |= HTTP2FrameFlags.endHeaders }
            Self.writeFrameHeader(length: fragment.readableBytes, type: type, flags: flags, streamID: streamID, into: &buffer)
            buffer.writeImmutableBuffer(fragment)
            type = HTTP2FrameType.continuation
            flags = 0
        } while rest.readableBytes > 0
    }

    /// §6.1: the header of a DATA frame of `length` bytes, which the caller writes next.
    static func writeDataHeader(streamID: UInt32, length: Int, endStream: Bool, into buffer: inout ByteBuffer) {
        Self.writeFrameHeader(
            length: length, type: HTTP2FrameType.data, flags: endStream ? HTTP2FrameFlags.endStream : 0, streamID: streamID,
            into: &buffer)
    }
}
