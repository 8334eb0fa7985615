import NIOCore
import NIOHPACK

@testable import BerthServer

/// What a strict HTTP/2 client knows of its connection: the frames it sent (as the server's
/// decoder cut them) and the frames the server wrote. Every server frame is checked as such a
/// client would check it (RFC 9113 §4–§6), with windows and stream states kept here, apart from
/// `HTTP2ConnectionState`'s own bookkeeping:
/// - frame lengths within the client's SETTINGS_MAX_FRAME_SIZE, known types and flags only,
///   CONTINUATION right after its HEADERS;
/// - stream frames only on streams the client used, HEADERS and DATA only on those with a
///   request the server took, none after END_STREAM or RST_STREAM, no RST_STREAM answering one;
/// - DATA within both send windows; WINDOW_UPDATE never beyond the receive windows the server
///   advertised, and the connection's handed back once no stream holds any of it;
/// - every SETTINGS and PING acknowledged; GOAWAY's last stream never rising; nothing after a
///   GOAWAY with an error;
/// - response field blocks decode (after a table size update when the client lowered
///   SETTINGS_HEADER_TABLE_SIZE) to `:status` first, lowercase names, no connection-specific
///   field.
struct HTTP2ClientView {
    enum Response: Equatable {
        case awaiting
        case informational
        case headers
        case ended
        case reset
    }

    let input: FuzzInput
    /// The server's SETTINGS_INITIAL_WINDOW_SIZE and connection window.
    let streamWindowSize: Int
    let connectionWindowSize: Int

    // What the server may send, by the client's SETTINGS and WINDOW_UPDATEs.
    private var maxFrameSize = HTTP2Limits.defaultMaxFrameSize
    private var initialSendWindow = HTTP2Limits.defaultWindowSize
    private(set) var connectionSendWindow = HTTP2Limits.defaultWindowSize
    private(set) var sendWindows: [UInt32: Int] = [:]
    /// The smallest SETTINGS_HEADER_TABLE_SIZE since the server's last table size update, if
    /// below the size in effect: the next block must start with an update.
    private var tableSizeInEffect = 4096
    private var lowestTableSize: Int?

    // What the client may send, by the server's WINDOW_UPDATEs.
    private(set) var connectionReceiveWindow = HTTP2Limits.defaultWindowSize
    private(set) var receiveWindows: [UInt32: Int] = [:]

    private var highestClientStream: UInt32 = 0
    private(set) var responses: [UInt32: Response] = [:]
    private var lastGoAway: UInt32?
    /// After a GOAWAY with an error, or once the connection closed, nothing may be written.
    private var finished = false
    private var sawServerSettings = false
    private var continuation: (stream: UInt32, block: ByteBuffer)?
    private var continuationEndsStream = false
    private var decoder = HPACKDecoder(allocator: ByteBufferAllocator(), maxDynamicTableSize: 4096, maxHeaderListSize: 1 << 24)
    private var parsed = 0

    // What the frames written while one client frame was received said.
    private var settingsAcks = 0
    private var pingAcks: [UInt64] = []
    private var resets: [(stream: UInt32, code: HTTP2ErrorCode)] = []
    private var goAways: [HTTP2ErrorCode] = []
    /// A DATA frame just received: whether it fit the windows as the client saw them.
    private var dataFrame: (stream: UInt32, fitsConnection: Bool, fitsStream: Bool?)?

    init(input: FuzzInput, streamWindowSize: Int, connectionWindowSize: Int) {
        self.input = input
        self.streamWindowSize = streamWindowSize
        self.connectionWindowSize = connectionWindowSize
    }

    // MARK: - The client's frames

    /// A frame the client sent, before the server receives it. `streamState`: the stream's
    /// state in the server, for DATA (whether the stream window applies).
    mutating func clientFrame(_ frame: HTTP2FrameDecoder.Frame, streamState: HTTP2Stream.State) {
        self.settingsAcks = 0
        self.pingAcks = []
        self.resets = []
        self.goAways = []
        self.dataFrame = nil
        switch frame {
        case .headers(let streamID, _, _):
            self.highestClientStream = max(self.highestClientStream, streamID)
        case .data(let streamID, _, _, let length):
            let fitsConnection = length <= self.connectionReceiveWindow
            var fitsStream: Bool?
            if fitsConnection {
                self.connectionReceiveWindow -= length
                if streamState == .open || streamState == .halfClosedLocal, let window = self.receiveWindows[streamID] {
                    fitsStream = length <= window
                    if length <= window { self.receiveWindows[streamID] = window - length }
                }
            }
            self.dataFrame = (streamID, fitsConnection, fitsStream)
        case .settings(let settings):
            // In order, up to the first invalid value, which ends the connection (§6.5.2).
            for entry in settings {
                let value = Int(entry.value)
                switch entry.identifier {
                case HTTP2SettingsEntry.initialWindowSize:
                    guard value <= HTTP2Limits.maxWindowSize else { return }
                    let delta = value - self.initialSendWindow
                    self.initialSendWindow = value
                    for stream in self.sendWindows.keys { self.sendWindows[stream]! += delta }
                case HTTP2SettingsEntry.maxFrameSize:
                    guard (HTTP2Limits.defaultMaxFrameSize...HTTP2Limits.largestMaxFrameSize).contains(value) else { return }
                    self.maxFrameSize = value
                case HTTP2SettingsEntry.enablePush where value > 1:
                    return
                case HTTP2SettingsEntry.headerTableSize where value < self.tableSizeInEffect:
                    self.lowestTableSize = min(self.lowestTableSize ?? value, value)
                default:
                    break
                }
            }
        case .windowUpdate(let streamID, let increment):
            if streamID == 0 {
                self.connectionSendWindow += Int(increment)
            } else if let window = self.sendWindows[streamID] {
                self.sendWindows[streamID] = window + Int(increment)
            }
        case .rstStream, .ping, .pingAck, .settingsAck, .priority, .goAway:
            break
        }
    }

    /// After the server received `frame` and everything it wrote then was parsed: what that
    /// frame obliged it to write.
    func receiveEnded(_ frame: HTTP2FrameDecoder.Frame, action: HTTP2ConnectionState.Action) {
        let closed = action == .closeConnection
        switch frame {
        case .settings:
            self.input.require(closed || self.settingsAcks == 1, "SETTINGS answered by \(self.settingsAcks) acknowledgments")
        case .ping(let opaque):
            self.input.require(closed || self.pingAcks == [opaque], "PING \(opaque) answered by \(self.pingAcks)")
        case .rstStream:
            self.input.require(self.resets.isEmpty, "RST_STREAM answered by RST_STREAM (RFC 9113 §5.4.2)")
        case .data(let streamID, _, _, let length):
            guard let (_, fitsConnection, fitsStream) = self.dataFrame else { return }
            let refusedConnection = self.goAways.contains(.flowControlError)
            self.input.require(
                fitsConnection != refusedConnection,
                "DATA of \(length) on stream \(streamID) \(fitsConnection ? "within" : "beyond") the connection window, "
                    + "\(refusedConnection ? "" : "not ")refused")
            if let fitsStream {
                let refusedStream = self.resets.contains { $0.stream == streamID && $0.code == .flowControlError }
                self.input.require(
                    fitsStream != refusedStream,
                    "DATA of \(length) on stream \(streamID) \(fitsStream ? "within" : "beyond") its window, \(refusedStream ? "" : "not ")refused")
            }
        default:
            break
        }
    }

    // MARK: - The server's side

    /// The server took a request on `streamID`: its response may follow.
    mutating func requestHead(_ streamID: UInt32) {
        self.input.require(self.responses[streamID] == nil, "a second request head on stream \(streamID)")
        if let lastGoAway = self.lastGoAway {
            self.input.require(
                lastGoAway == HTTP2Limits.maxStreamID || streamID <= lastGoAway,
                "request on stream \(streamID) taken after GOAWAY named \(lastGoAway)")
        }
        self.responses[streamID] = .awaiting
        self.sendWindows[streamID] = self.initialSendWindow
        self.receiveWindows[streamID] = self.streamWindowSize
    }

    mutating func connectionClosed() {
        self.finished = true
    }

    /// What the server can still send on `streamID`, as the client sees it.
    func sendable(_ streamID: UInt32) -> Int {
        min(self.sendWindows[streamID] ?? 0, self.connectionSendWindow)
    }

    /// With no stream holding received bytes, all of them were handed back but for less than
    /// half the window, which waits for more (RFC 9113 §6.9: a window that only shrinks stalls
    /// the connection).
    func checkNoWindowLeak(activeStreams: Int, consumingStreams: [UInt32]) {
        guard !self.finished else { return }
        if activeStreams == 0 {
            self.input.require(
                self.connectionReceiveWindow > self.connectionWindowSize - self.connectionWindowSize / 2,
                "no stream is active, yet the connection window is \(self.connectionReceiveWindow) of \(self.connectionWindowSize)")
        }
        for streamID in consumingStreams {
            let window = self.receiveWindows[streamID] ?? self.streamWindowSize
            self.input.require(
                window > self.streamWindowSize - self.streamWindowSize / 2,
                "stream \(streamID) consumed all it received, yet its window is \(window) of \(self.streamWindowSize)")
        }
    }

    /// Checks every frame written since the last call.
    mutating func parse(_ output: ByteBuffer) {
        var buffer = output
        buffer.moveReaderIndex(to: self.parsed)
        while buffer.readableBytes > 0 {
            self.input.require(!self.finished, "a frame written after the connection ended")
            guard buffer.readableBytes >= HTTP2Limits.frameHeaderLength else {
                self.input.require(false, "a partial frame header written")
                return
            }
            let lengthAndType = buffer.readInteger(as: UInt32.self)!
            let flags = buffer.readInteger(as: UInt8.self)!
            let rawStream = buffer.readInteger(as: UInt32.self)!
            let length = Int(lengthAndType >> 8)
            let type = UInt8(truncatingIfNeeded: lengthAndType)
            self.input.require(rawStream & 0x8000_0000 == 0, "a frame with the reserved bit set")
            self.input.require(length <= self.maxFrameSize, "a frame of \(length) bytes, beyond the client's \(self.maxFrameSize)")
            guard let payload = buffer.readSlice(length: length) else {
                self.input.require(false, "a frame of \(length) bytes with \(buffer.readableBytes) written")
                return
            }
            self.serverFrame(type: type, flags: flags, stream: rawStream, payload: payload)
        }
        self.parsed = output.writerIndex
    }

    private mutating func serverFrame(type: UInt8, flags: UInt8, stream: UInt32, payload: ByteBuffer) {
        var payload = payload
        let length = payload.readableBytes
        if let continuation = self.continuation {
            self.input.require(
                type == HTTP2FrameType.continuation && stream == continuation.stream,
                "frame of type \(type) between HEADERS and CONTINUATION on stream \(continuation.stream)")
        }
        if !self.sawServerSettings {
            self.input.require(type == HTTP2FrameType.settings && flags == 0, "the server's first frame is not its SETTINGS")
        }
        switch type {
        case HTTP2FrameType.settings:
            self.input.require(stream == 0, "SETTINGS on stream \(stream)")
            if flags == HTTP2FrameFlags.ack {
                self.input.require(length == 0, "SETTINGS ACK with a payload")
                self.settingsAcks += 1
            } else {
                self.input.require(flags == 0 && !self.sawServerSettings && length % 6 == 0, "a second or malformed SETTINGS")
                self.sawServerSettings = true
            }

        case HTTP2FrameType.ping:
            self.input.require(stream == 0 && length == 8 && flags & ~HTTP2FrameFlags.ack == 0, "malformed PING")
            let opaque = payload.readInteger(as: UInt64.self)!
            if flags == HTTP2FrameFlags.ack {
                self.pingAcks.append(opaque)
            } else {
                self.input.require(opaque == HTTP2ConnectionState.shutdownPing && self.lastGoAway != nil, "a PING of the server's own outside shutdown")
            }

        case HTTP2FrameType.goAway:
            self.input.require(stream == 0 && length >= 8 && flags == 0, "malformed GOAWAY")
            let lastStream = payload.readInteger(as: UInt32.self)!
            let code = HTTP2ErrorCode(rawValue: payload.readInteger(as: UInt32.self)!)
            self.input.require(lastStream & 0x8000_0000 == 0, "GOAWAY with the reserved bit set")
            self.input.require(
                lastStream == HTTP2Limits.maxStreamID || lastStream <= self.highestClientStream,
                "GOAWAY names stream \(lastStream), above every stream the client used")
            if let previous = self.lastGoAway {
                self.input.require(lastStream <= previous, "GOAWAY's last stream rose from \(previous) to \(lastStream) (RFC 9113 §6.8)")
            }
            self.lastGoAway = lastStream
            self.goAways.append(code)
            if code != .noError { self.finished = true }

        case HTTP2FrameType.rstStream:
            self.input.require(length == 4 && flags == 0, "malformed RST_STREAM")
            self.requireClientStream(stream, "RST_STREAM")
            self.resets.append((stream, HTTP2ErrorCode(rawValue: payload.readInteger(as: UInt32.self)!)))
            if self.responses[stream] != nil { self.responses[stream] = .reset }

        case HTTP2FrameType.windowUpdate:
            self.input.require(length == 4 && flags == 0, "malformed WINDOW_UPDATE")
            let word = payload.readInteger(as: UInt32.self)!
            self.input.require(word & 0x8000_0000 == 0 && word > 0, "WINDOW_UPDATE of \(word)")
            if stream == 0 {
                self.connectionReceiveWindow += Int(word)
                self.input.require(
                    self.connectionReceiveWindow <= self.connectionWindowSize,
                    "connection window raised to \(self.connectionReceiveWindow), beyond its \(self.connectionWindowSize)")
            } else {
                self.requireClientStream(stream, "WINDOW_UPDATE")
                guard let window = self.receiveWindows[stream] else {
                    self.input.require(false, "WINDOW_UPDATE on stream \(stream), which the server never took")
                    return
                }
                self.receiveWindows[stream] = window + Int(word)
                self.input.require(
                    window + Int(word) <= self.streamWindowSize,
                    "stream \(stream)'s window raised to \(window + Int(word)), beyond its \(self.streamWindowSize)")
            }

        case HTTP2FrameType.headers:
            self.input.require(flags & ~(HTTP2FrameFlags.endStream | HTTP2FrameFlags.endHeaders) == 0, "HEADERS with flags \(flags)")
            let state = self.responses[stream]
            self.input.require(
                state == .awaiting || state == .informational,
                "HEADERS on stream \(stream), whose response is \(state.map { "\($0)" } ?? "not the server's to send")")
            self.continuation = (stream, payload)
            // END_STREAM is on the HEADERS frame; it takes effect once the block is complete.
            self.continuationEndsStream = flags & HTTP2FrameFlags.endStream != 0
            if flags & HTTP2FrameFlags.endHeaders != 0 { self.responseHead(stream: stream, endStream: self.continuationEndsStream) }

        case HTTP2FrameType.continuation:
            self.input.require(self.continuation != nil && flags & ~HTTP2FrameFlags.endHeaders == 0, "stray CONTINUATION")
            self.continuation?.block.writeImmutableBuffer(payload)
            if flags & HTTP2FrameFlags.endHeaders != 0 { self.responseHead(stream: stream, endStream: self.continuationEndsStream) }

        case HTTP2FrameType.data:
            self.input.require(flags & ~HTTP2FrameFlags.endStream == 0, "DATA with flags \(flags)")
            self.input.require(self.responses[stream] == .headers, "DATA on stream \(stream), whose response is \(String(describing: self.responses[stream]))")
            if length > 0 {
                let window = self.sendWindows[stream] ?? 0
                self.input.require(
                    length <= window && length <= self.connectionSendWindow,
                    "DATA of \(length) on stream \(stream), beyond its window \(window) or the connection's \(self.connectionSendWindow)")
                self.sendWindows[stream] = window - length
                self.connectionSendWindow -= length
            }
            if flags & HTTP2FrameFlags.endStream != 0 { self.responses[stream] = .ended }

        default:
            self.input.require(false, "the server wrote a frame of type \(type)")
        }
    }

    /// §5.1.1: frames of the server on a stream name one the client used (or closed by using a
    /// higher one), never an even one or one still idle.
    private func requireClientStream(_ stream: UInt32, _ frame: String) {
        self.input.require(
            stream != 0 && stream & 1 == 1 && stream <= self.highestClientStream,
            "\(frame) on stream \(stream), which the client never opened (highest: \(self.highestClientStream))")
    }

    /// A complete response field block.
    private mutating func responseHead(stream: UInt32, endStream: Bool) {
        guard var block = self.continuation?.block else { return }
        self.continuation = nil
        if let lowest = self.lowestTableSize {
            // RFC 7541 §4.2: the first block after the change starts with a size update.
            let first = block.getInteger(at: block.readerIndex, as: UInt8.self) ?? 0
            self.input.require(first & 0xe0 == 0x20, "no table size update after the client lowered SETTINGS_HEADER_TABLE_SIZE")
            self.input.require(first & 0x1f <= lowest, "table size update to \(first & 0x1f), above the client's \(lowest)")
            self.tableSizeInEffect = Int(first & 0x1f)
            self.lowestTableSize = nil
        }
        let fields: HPACKHeaders
        do {
            fields = try self.decoder.decodeHeaders(from: &block)
        } catch {
            self.input.require(false, "response field block on stream \(stream) does not decode: \(error)")
            return
        }
        let pairs = fields.map { ($0.name, $0.value) }
        guard let (name, status) = pairs.first, name == ":status", status.utf8.count == 3, let code = Int(status) else {
            self.input.require(false, "response on stream \(stream) does not start with :status: \(pairs)")
            return
        }
        for (name, _) in pairs.dropFirst() {
            self.input.require(
                !name.isEmpty && !name.hasPrefix(":") && !name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5a })
                    && !HPACKResponseEncoder.isConnectionSpecific(name),
                "response field \(name) on stream \(stream)")
        }
        if code < 200 {
            self.input.require(!endStream && self.responses[stream] == .awaiting, "informational response \(code) ending stream \(stream), or after another")
            self.responses[stream] = .informational
        } else {
            self.responses[stream] = endStream ? .ended : .headers
        }
    }
}
