import NIOCore
import NIOHPACK
import NIOHTTP1

/// An HTTP/2 connection (RFC 9113) as a plain state machine: it is fed the frames
/// `HTTP2FrameDecoder` cuts from the socket and the server's progress on each stream, writes
/// its own control frames (SETTINGS ACK, PING ACK, WINDOW_UPDATE, RST_STREAM, GOAWAY) into the
/// output buffer it is handed, and returns one action per event for the server. No I/O, no
/// timers: time is passed in.
///
/// It owns what must be decided once per connection: stream states and limits (§5.1), flow
/// control both ways (§5.2, §6.9), the HPACK decoding context (§4.3), graceful shutdown
/// (§6.8) and flood protection.
struct HTTP2ConnectionState: Sendable {
    enum Action: Equatable, Sendable {
        case none
        /// A new request. `endStream`: it has no body.
        case requestHead(streamID: UInt32, head: HTTPRequestHead, contentLength: Int?, endStream: Bool)
        /// Request body bytes; report them with `consumed` once processed.
        case requestData(streamID: UInt32, data: ByteBuffer, endStream: Bool)
        /// The request ended with trailers, which are dropped.
        case requestEnd(streamID: UInt32)
        /// The client reset the stream, or a stream error was raised on it: the server drops
        /// its exchange and sends nothing more on the stream.
        case streamCancelled(streamID: UInt32, code: HTTP2ErrorCode)
        /// A send window grew: the server may resume sending where `sendableBytes` allows.
        case sendWindowOpened
        /// Output holds the last frames (a GOAWAY): write them and close. Exchanges still
        /// running on the connection are dropped.
        case closeConnection
    }

    private enum Shutdown: Equatable {
        case serving
        /// The first GOAWAY (last stream 2^31−1) and a PING are out; new streams are still
        /// accepted until the PING ACK shows the client has seen the GOAWAY.
        case announced
        /// The final GOAWAY named `lastStreamID`; the connection closes when its streams end.
        case draining(lastStreamID: UInt32)
        case closed
    }

    /// SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2), so one connection cannot pin unbounded work.
    static let maxConcurrentStreams = 100
    /// The most request body left unread after a complete response that is still read (and
    /// dropped) rather than reset.
    static let drainableRest = 1024 * 1024
    /// The opaque data of the graceful shutdown's PING.
    static let shutdownPing: UInt64 = 0x4265_7274_6853_6875

    let maxHeaderListSize: Int
    let initialWindowSize: Int
    private var hpack: HPACKDecoder
    private(set) var streams = HTTP2StreamTable(capacity: Self.maxConcurrentStreams)
    private var connectionReceiveWindow: HTTP2ReceiveWindow
    private(set) var connectionSendWindow = HTTP2Limits.defaultWindowSize
    private(set) var peer = HTTP2PeerSettings()
    private var shutdown = Shutdown.serving
    private var peerWentAway = false
    private var flood = HTTP2FloodGuard()

    /// `maxHeaderListSize`: SETTINGS_MAX_HEADER_LIST_SIZE, enforced while decoding (the frame
    /// decoder's `maxFieldBlockBytes` should match it). `initialWindowSize`: each stream's
    /// receive window, at least the default 65 535 so that a client sending before it has our
    /// SETTINGS cannot overrun it. `connectionWindowSize`: the connection's receive window.
    init(maxHeaderListSize: Int, initialWindowSize: Int = HTTP2Limits.defaultWindowSize, connectionWindowSize: Int = HTTP2Limits.defaultWindowSize) {
        precondition(initialWindowSize >= HTTP2Limits.defaultWindowSize && initialWindowSize <= HTTP2Limits.maxWindowSize)
        precondition(connectionWindowSize >= HTTP2Limits.defaultWindowSize && connectionWindowSize <= HTTP2Limits.maxWindowSize)
        self.maxHeaderListSize = maxHeaderListSize
        self.initialWindowSize = initialWindowSize
        self.connectionReceiveWindow = HTTP2ReceiveWindow(size: connectionWindowSize)
        self.hpack = HPACKDecoder(allocator: ByteBufferAllocator(), maxDynamicTableSize: HPACKDecoder.maxDynamicTableSize, maxHeaderListSize: maxHeaderListSize)
    }

    /// Our SETTINGS, the server connection preface (§3.4), and the connection window beyond
    /// its initial 65 535 (which only WINDOW_UPDATE can raise, §6.9.2).
    func start(output: inout ByteBuffer) {
        HTTP2FrameWriter.writeSettings(
            [
                HTTP2SettingsEntry(HTTP2SettingsEntry.maxConcurrentStreams, UInt32(Self.maxConcurrentStreams)),
                HTTP2SettingsEntry(HTTP2SettingsEntry.maxHeaderListSize, UInt32(clamping: self.maxHeaderListSize)),
                HTTP2SettingsEntry(HTTP2SettingsEntry.initialWindowSize, UInt32(self.initialWindowSize)),
                HTTP2SettingsEntry(HTTP2SettingsEntry.enablePush, 0),
            ], into: &output)
        let extra = self.connectionReceiveWindow.size - HTTP2Limits.defaultWindowSize
        if extra > 0 { HTTP2FrameWriter.writeWindowUpdate(streamID: 0, increment: extra, into: &output) }
    }

    /// §5.1, for a stream identifier of this connection.
    func state(ofStream streamID: UInt32) -> HTTP2Stream.State {
        self.streams.state(of: streamID)
    }

    // MARK: - Frames from the client

    mutating func receive(_ frame: HTTP2FrameDecoder.Frame, now: NIODeadline, output: inout ByteBuffer) -> Action {
        guard self.shutdown != .closed else { return .none }
        do throws(HTTP2ConnectionError) {
            switch frame {
            case .headers(let streamID, let fieldBlock, let endStream):
                return try self.receiveHeaders(streamID: streamID, fieldBlock: fieldBlock, endStream: endStream, now: now, output: &output)
            case .data(let streamID, let payload, let endStream, let flowControlledLength):
                return try self.receiveData(
                    streamID: streamID, payload: payload, endStream: endStream, flowControlledLength: flowControlledLength, now: now,
                    output: &output)
            case .rstStream(let streamID, let code):
                return try self.receiveReset(streamID: streamID, code: code, now: now, output: &output)
            case .windowUpdate(let streamID, let increment):
                return try self.receiveWindowUpdate(streamID: streamID, increment: Int(increment), now: now, output: &output)
            case .settings(let settings):
                try self.flood.controlFrame(at: now)
                return try self.receiveSettings(settings, output: &output)
            case .settingsAck:
                return .none
            case .ping(let opaque):
                try self.flood.controlFrame(at: now)
                HTTP2FrameWriter.writePingAck(opaque: opaque, into: &output)
                return .none
            case .pingAck(let opaque):
                guard opaque == Self.shutdownPing, self.shutdown == .announced else { return .none }
                return self.stopAcceptingStreams(output: &output)
            case .priority:
                // §5.3.2: priority signals are deprecated and ignored, but still cost something.
                try self.flood.controlFrame(at: now)
                return .none
            case .goAway:
                // §6.8: the client starts no new streams; the open ones are finished.
                self.peerWentAway = true
                return self.closeIfDone(output: &output)
            }
        } catch {
            return self.fail(error, output: &output)
        }
    }

    private mutating func receiveHeaders(streamID: UInt32, fieldBlock: ByteBuffer, endStream: Bool, now: NIODeadline, output: inout ByteBuffer) throws(HTTP2ConnectionError) -> Action {
        // §4.3: every field block is decoded, even one for a stream about to be refused or
        // ignored, or the HPACK contexts of client and server drift apart.
        let fields = try self.decode(fieldBlock)

        switch self.streams.lookup(streamID) {
        case .active(var stream):
            // A second HEADERS: trailers. On a half-closed (remote) stream, §5.1 says
            // STREAM_CLOSED; without END_STREAM the request is malformed (§8.1).
            guard stream.state == .open || stream.state == .halfClosedLocal else {
                return try self.streamError(streamID, .streamClosed, now: now, output: &output)
            }
            do throws(HTTP2StreamError) {
                guard endStream else { throw HTTP2StreamError(streamID: streamID, .protocolError) }
                try HTTP2RequestFields.checkTrailers(fields, streamID: streamID)
                if let length = stream.contentLength, length != stream.receivedBytes { throw HTTP2StreamError(streamID: streamID, .protocolError) }
            } catch {
                return try self.streamError(streamID, error.code, now: now, output: &output)
            }
            if stream.state == .halfClosedLocal {
                self.close(streamID, .finished, output: &output)
                return self.closeIfDone(output: &output)
            }
            stream.state = .halfClosedRemote
            self.streams.update(streamID, stream)
            return .requestEnd(streamID: streamID)
        case .closed(.resetByServer):
            return .none
        case .closed(.resetByPeer):
            return try self.streamError(streamID, .streamClosed, now: now, output: &output)
        case .closed(.finished):
            // §5.1 "closed": frames after END_STREAM are a connection error.
            throw HTTP2ConnectionError(.streamClosed, "HEADERS on stream \(streamID), which the client ended")
        case .closed(nil):
            // §5.1.1: a stream identifier not above every earlier one. (A stream closed so
            // long ago that it was forgotten lands here too; §5.1 would have STREAM_CLOSED.)
            throw HTTP2ConnectionError(.protocolError, "HEADERS on stream \(streamID), not above stream \(self.streams.highestStreamID)")
        case .idle:
            guard streamID & 1 == 1 else {
                throw HTTP2ConnectionError(.protocolError, "HEADERS on even stream \(streamID): clients use odd identifiers")
            }
            self.streams.use(streamID)
        }

        if case .draining(let lastStreamID) = self.shutdown, streamID > lastStreamID {
            // §6.8: streams above the final GOAWAY's last stream are ignored.
            self.streams.close(streamID, .resetByServer)
            return .none
        }
        if self.streams.activeCount >= Self.maxConcurrentStreams {
            // §5.1.2: the stream is refused, the connection carries on.
            return try self.streamError(streamID, .refusedStream, now: now, output: &output)
        }
        let request: HTTP2RequestFields.Request
        do throws(HTTP2StreamError) {
            request = try HTTP2RequestFields.request(from: fields, streamID: streamID)
            // §8.1.1: no DATA can follow, so a nonzero content-length cannot be met.
            if endStream, let length = request.contentLength, length != 0 { throw HTTP2StreamError(streamID: streamID, .protocolError) }
        } catch {
            return try self.streamError(streamID, error.code, now: now, output: &output)
        }
        self.streams.open(
            streamID,
            HTTP2Stream(
                state: endStream ? .halfClosedRemote : .open, receiveWindowSize: self.initialWindowSize,
                sendWindow: self.peer.initialWindowSize, contentLength: request.contentLength))
        return .requestHead(streamID: streamID, head: request.head, contentLength: request.contentLength, endStream: endStream)
    }

    private mutating func decode(_ fieldBlock: ByteBuffer) throws(HTTP2ConnectionError) -> HPACKHeaders {
        var block = fieldBlock
        do {
            return try self.hpack.decodeHeaders(from: &block)
        } catch is NIOHPACKErrors.MaxHeaderListSizeViolation {
            // The block was decoded only in part: the HPACK context is lost with it.
            throw HTTP2ConnectionError(.enhanceYourCalm, "field block over SETTINGS_MAX_HEADER_LIST_SIZE")
        } catch {
            // §4.3: a field block that cannot be decoded is a COMPRESSION_ERROR.
            throw HTTP2ConnectionError(.compressionError, "undecodable field block")
        }
    }

    private mutating func receiveData(streamID: UInt32, payload: ByteBuffer, endStream: Bool, flowControlledLength: Int, now: NIODeadline, output: inout ByteBuffer) throws(HTTP2ConnectionError) -> Action {
        // §6.9.1: every DATA frame counts against the connection window, even one in error.
        guard self.connectionReceiveWindow.receive(flowControlledLength) else {
            throw HTTP2ConnectionError(.flowControlError, "DATA beyond the connection window")
        }
        if flowControlledLength == 0, !endStream { try self.flood.controlFrame(at: now) }
        let lookup = self.streams.lookup(streamID)
        guard case .active(var stream) = lookup, stream.state == .open || stream.state == .halfClosedLocal else {
            // These bytes never reach the server, so they are handed back at once.
            self.releaseConnectionWindow(flowControlledLength, output: &output)
            switch lookup {
            case .idle: throw HTTP2ConnectionError(.protocolError, "DATA on idle stream \(streamID)")
            case .closed(.resetByServer): return .none
            // §6.1: DATA on a stream not open for the client.
            case .active, .closed: return try self.streamError(streamID, .streamClosed, now: now, output: &output)
            }
        }
        guard stream.receiveWindow.receive(flowControlledLength) else {
            self.releaseConnectionWindow(flowControlledLength, output: &output)
            return try self.streamError(streamID, .flowControlError, now: now, output: &output)
        }
        stream.receivedBytes += payload.readableBytes
        if let length = stream.contentLength, stream.receivedBytes > length || (endStream && stream.receivedBytes != length) {
            // §8.1.1: the body disagrees with content-length.
            self.streams.update(streamID, stream)
            return try self.streamError(streamID, .protocolError, now: now, output: &output)
        }
        if stream.state == .halfClosedLocal {
            // The answer is out; these bytes only finish the request.
            self.streams.update(streamID, stream)
            self.consumed(streamID: streamID, bytes: flowControlledLength, output: &output)
            guard endStream else { return .none }
            self.close(streamID, .finished, output: &output)
            return self.closeIfDone(output: &output)
        }
        if endStream { stream.state = .halfClosedRemote }
        self.streams.update(streamID, stream)
        // Padding is consumed on arrival: the server only sees and reports the data.
        let padding = flowControlledLength - payload.readableBytes
        if padding > 0 { self.consumed(streamID: streamID, bytes: padding, output: &output) }
        return .requestData(streamID: streamID, data: payload, endStream: endStream)
    }

    private mutating func receiveReset(streamID: UInt32, code: HTTP2ErrorCode, now: NIODeadline, output: inout ByteBuffer) throws(HTTP2ConnectionError) -> Action {
        // Every client reset counts, answered or not: opening streams and resetting them at
        // once is the "rapid reset" attack (CVE-2023-44487).
        try self.flood.clientReset(at: now)
        switch self.streams.lookup(streamID) {
        case .idle: throw HTTP2ConnectionError(.protocolError, "RST_STREAM on idle stream \(streamID)")
        case .closed: return .none
        case .active: break
        }
        self.close(streamID, .resetByPeer, output: &output)
        let action = self.closeIfDone(output: &output)
        return action == .none ? .streamCancelled(streamID: streamID, code: code) : action
    }

    private mutating func receiveWindowUpdate(streamID: UInt32, increment: Int, now: NIODeadline, output: inout ByteBuffer) throws(HTTP2ConnectionError) -> Action {
        if streamID == 0 {
            guard increment > 0 else { throw HTTP2ConnectionError(.protocolError, "WINDOW_UPDATE of 0 on the connection") }
            self.connectionSendWindow += increment
            guard self.connectionSendWindow <= HTTP2Limits.maxWindowSize else {
                throw HTTP2ConnectionError(.flowControlError, "connection window beyond 2^31-1")
            }
            return .sendWindowOpened
        }
        let lookup = self.streams.lookup(streamID)
        guard case .active(var stream) = lookup else {
            if case .idle = lookup { throw HTTP2ConnectionError(.protocolError, "WINDOW_UPDATE on idle stream \(streamID)") }
            // §6.9: an increment of 0 is an error whatever the stream's state.
            guard increment > 0 else { return try self.streamError(streamID, .protocolError, now: now, output: &output) }
            // §5.1 allows WINDOW_UPDATE on a closed stream for a while; a stream of them is a flood.
            try self.flood.controlFrame(at: now)
            return .none
        }
        // §6.9: an increment of 0 is a stream error, a window beyond 2^31−1 too (§6.9.1).
        guard increment > 0 else { return try self.streamError(streamID, .protocolError, now: now, output: &output) }
        stream.sendWindow += increment
        guard stream.sendWindow <= HTTP2Limits.maxWindowSize else {
            return try self.streamError(streamID, .flowControlError, now: now, output: &output)
        }
        self.streams.update(streamID, stream)
        return .sendWindowOpened
    }

    /// §6.5.2, §6.5.3: checked, applied, acknowledged.
    private mutating func receiveSettings(_ settings: HTTP2SettingsList, output: inout ByteBuffer) throws(HTTP2ConnectionError) -> Action {
        let change = try self.peer.apply(settings)
        guard change.initialWindowDelta == 0 || self.streams.addToSendWindows(change.initialWindowDelta) else {
            throw HTTP2ConnectionError(.flowControlError, "stream window beyond 2^31-1")
        }
        HTTP2FrameWriter.writeSettingsAck(into: &output)
        return change.initialWindowDelta > 0 || change.maxFrameSizeGrew ? .sendWindowOpened : .none
    }

    // MARK: - The server's side of streams

    /// How many DATA payload bytes may go out on `streamID` now: the smaller of the stream's
    /// and the connection's send windows (§6.9.1), and no more than one frame (§4.2). 0 for a
    /// stream that is gone.
    func sendableBytes(streamID: UInt32) -> Int {
        guard self.shutdown != .closed, let stream = self.streams[streamID] else { return 0 }
        return max(0, min(stream.sendWindow, self.connectionSendWindow, self.peer.maxFrameSize))
    }

    /// Writes a response field block (from `HPACKResponseEncoder`) as HEADERS and, beyond the
    /// peer's frame size, CONTINUATION frames. `.streamCancelled` when the stream is gone:
    /// nothing was written.
    mutating func sendHeaders(streamID: UInt32, fieldBlock: ByteBuffer, endStream: Bool, stopRequest: Bool = false, output: inout ByteBuffer) -> Action {
        guard self.shutdown != .closed else { return .closeConnection }
        guard self.streams[streamID] != nil else { return .streamCancelled(streamID: streamID, code: .streamClosed) }
        var block = fieldBlock
        if self.peer.tableSizeUpdatePending {
            // Rare (a peer lowering SETTINGS_HEADER_TABLE_SIZE): this one block is copied.
            block = ByteBufferAllocator().buffer(capacity: fieldBlock.readableBytes + 1)
            HPACKResponseEncoder.writeTableSizeUpdateToZero(into: &block)
            block.writeImmutableBuffer(fieldBlock)
            self.peer.tableSizeUpdateSent()
        }
        HTTP2FrameWriter.writeHeaders(streamID: streamID, fieldBlock: block, endStream: endStream, maxFrameSize: self.peer.maxFrameSize, into: &output)
        return endStream ? self.responseEnded(streamID, stopRequest: stopRequest, output: &output) : .none
    }

    /// Writes the header of a DATA frame of `length` bytes, at most `sendableBytes`, and
    /// charges the send windows; the caller writes the payload right after `output`, then,
    /// for the frame with END_STREAM, calls `responseWritten`. `.streamCancelled` when the
    /// stream is gone: nothing was written, send no payload.
    mutating func sendDataHeader(streamID: UInt32, length: Int, endStream: Bool, output: inout ByteBuffer) -> Action {
        guard self.shutdown != .closed else { return .closeConnection }
        guard var stream = self.streams[streamID] else { return .streamCancelled(streamID: streamID, code: .streamClosed) }
        precondition(length == 0 || length <= self.sendableBytes(streamID: streamID), "DATA beyond the send window")
        stream.sendWindow -= length
        self.connectionSendWindow -= length
        self.streams.update(streamID, stream)
        HTTP2FrameWriter.writeDataHeader(streamID: streamID, length: length, endStream: endStream, into: &output)
        return .none
    }

    /// The payload of the DATA frame with END_STREAM is written: the response is complete.
    /// What that means for the stream (and, after a GOAWAY, the connection) is written after
    /// it, never between a frame's header and its payload. `stopRequest`: the server gave up
    /// on the request body (it stalled or was refused), so none of it is waited for.
    mutating func responseWritten(streamID: UInt32, stopRequest: Bool = false, output: inout ByteBuffer) -> Action {
        guard self.shutdown != .closed else { return .closeConnection }
        return self.responseEnded(streamID, stopRequest: stopRequest, output: &output)
    }

    /// The server processed `bytes` of a stream's request body: its receive windows are
    /// replenished, with WINDOW_UPDATE once half a window is due.
    mutating func consumed(streamID: UInt32, bytes: Int, output: inout ByteBuffer) {
        guard self.shutdown != .closed, var stream = self.streams[streamID] else {
            // A closed stream's bytes were handed back when it closed.
            return
        }
        let bytes = min(bytes, stream.receiveWindow.unconsumed)
        // No more DATA can come on a half-closed (remote) stream: its window needs no update.
        // A half-closed (local) one is still being read, its rest dropped, and needs it.
        if let increment = stream.receiveWindow.consume(bytes), stream.state != .halfClosedRemote {
            HTTP2FrameWriter.writeWindowUpdate(streamID: streamID, increment: increment, into: &output)
        }
        self.streams.update(streamID, stream)
        self.releaseConnectionWindow(bytes, output: &output)
    }

    /// The server gives up on a stream (a body over its limit, a timeout): RST_STREAM with
    /// `code`, and the stream is closed.
    mutating func resetStream(streamID: UInt32, code: HTTP2ErrorCode, output: inout ByteBuffer) -> Action {
        guard self.shutdown != .closed, self.streams[streamID] != nil else { return .none }
        HTTP2FrameWriter.writeRSTStream(streamID: streamID, code: code, into: &output)
        self.close(streamID, .resetByServer, output: &output)
        return self.closeIfDone(output: &output)
    }

    private mutating func responseEnded(_ streamID: UInt32, stopRequest: Bool, output: inout ByteBuffer) -> Action {
        guard let stream = self.streams[streamID] else { return .none }
        if stream.state == .open {
            // §8.1: the response is complete while the request is still arriving. What is
            // left of a small body (most likely on its way already) is read and dropped, so
            // the client ends its upload cleanly; a longer or unknown rest is stopped with
            // RST_STREAM NO_ERROR.
            if !stopRequest, let length = stream.contentLength, length - stream.receivedBytes <= Self.drainableRest {
                var draining = stream
                draining.state = .halfClosedLocal
                self.streams.update(streamID, draining)
                return .none
            }
            HTTP2FrameWriter.writeRSTStream(streamID: streamID, code: .noError, into: &output)
            self.close(streamID, .resetByServer, output: &output)
        } else {
            self.close(streamID, .finished, output: &output)
        }
        return self.closeIfDone(output: &output)
    }

    // MARK: - Ending the connection

    /// Graceful shutdown, step one (§6.8): GOAWAY with the largest stream identifier, so the
    /// client stops opening streams without losing those already on the wire, and a PING.
    mutating func beginGracefulShutdown(output: inout ByteBuffer) -> Action {
        guard self.shutdown == .serving else { return .none }
        HTTP2FrameWriter.writeGoAway(lastStreamID: HTTP2Limits.maxStreamID, code: .noError, into: &output)
        HTTP2FrameWriter.writePing(opaque: Self.shutdownPing, into: &output)
        self.shutdown = .announced
        return .none
    }

    /// Graceful shutdown, step two: GOAWAY naming the last stream really opened; streams above
    /// it are ignored, and the connection closes when the rest are done. Runs when the PING
    /// ACK arrives, or when the server stops waiting for it.
    mutating func stopAcceptingStreams(output: inout ByteBuffer) -> Action {
        switch self.shutdown {
        case .serving, .announced:
            HTTP2FrameWriter.writeGoAway(lastStreamID: self.streams.lastOpenedStreamID, code: .noError, into: &output)
            self.shutdown = .draining(lastStreamID: self.streams.lastOpenedStreamID)
            return self.closeIfDone(output: &output)
        case .draining, .closed:
            return .none
        }
    }

    /// A connection error (§5.4.1), found here or by the frame decoder: GOAWAY with the last
    /// stream accepted, then close.
    mutating func fail(_ error: HTTP2ConnectionError, output: inout ByteBuffer) -> Action {
        guard self.shutdown != .closed else { return .closeConnection }
        HTTP2FrameWriter.writeGoAway(lastStreamID: self.streams.lastOpenedStreamID, code: error.code, debugData: error.reason, into: &output)
        self.shutdown = .closed
        return .closeConnection
    }

    /// After a GOAWAY either way, the connection closes once no stream is left.
    private mutating func closeIfDone(output: inout ByteBuffer) -> Action {
        guard self.streams.activeCount == 0 else { return .none }
        switch self.shutdown {
        case .draining:
            self.shutdown = .closed
            return .closeConnection
        case .serving, .announced:
            guard self.peerWentAway else { return .none }
            HTTP2FrameWriter.writeGoAway(lastStreamID: self.streams.lastOpenedStreamID, code: .noError, into: &output)
            self.shutdown = .closed
            return .closeConnection
        case .closed:
            return .closeConnection
        }
    }

    // MARK: - Stream bookkeeping

    /// A stream error (§5.4.2): RST_STREAM, and the stream is closed. `.streamCancelled` if
    /// the server knew the stream.
    private mutating func streamError(_ streamID: UInt32, _ code: HTTP2ErrorCode, now: NIODeadline, output: inout ByteBuffer) throws(HTTP2ConnectionError) -> Action {
        try self.flood.streamError(at: now)
        HTTP2FrameWriter.writeRSTStream(streamID: streamID, code: code, into: &output)
        let known = self.streams[streamID] != nil
        self.close(streamID, .resetByServer, output: &output)
        guard known else { return .none }
        let action = self.closeIfDone(output: &output)
        return action == .none ? .streamCancelled(streamID: streamID, code: code) : action
    }

    /// Bytes the server was handed but never reported consumed go back to the connection
    /// window with the stream, or the window would shrink for good.
    private mutating func close(_ streamID: UInt32, _ closure: HTTP2ClosedStreams.Closure, output: inout ByteBuffer) {
        if let stream = self.streams.close(streamID, closure) {
            self.releaseConnectionWindow(stream.receiveWindow.unconsumed, output: &output)
        }
    }

    private mutating func releaseConnectionWindow(_ bytes: Int, output: inout ByteBuffer) {
        if let increment = self.connectionReceiveWindow.consume(bytes) {
            HTTP2FrameWriter.writeWindowUpdate(streamID: 0, increment: increment, into: &output)
        }
    }
}
