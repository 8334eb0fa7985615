import NIOCore

@testable import BerthServer

/// The server's side of one fuzzed connection: the connection state, and an exchange for
/// each request it took.
struct FuzzServer {
    typealias Action = HTTP2ConnectionState.Action
    typealias Frame = HTTP2FrameDecoder.Frame

    /// What the server does with one request, drawn from the input's seed and the stream.
    struct Plan {
        enum Answer: CaseIterable {
            case atHead, atRequestEnd, never, resetAtHead, resetAtFirstData
        }

        var answer: Answer
        var informational: Bool
        var status: Int
        var bodyLength: Int
        /// With no body: END_STREAM on HEADERS, else on an empty DATA frame.
        var endOnHeaders: Bool
        var stopRequest: Bool
        var consumes: Bool
        var resetCode: HTTP2ErrorCode

        init(seed: UInt8, streamID: UInt32) {
            var random = HTTP1RequestFuzz.SplitMix(seed: UInt64(seed) << 32 | UInt64(streamID))
            var bits = random.next()
            func draw(_ count: Int) -> Int {
                defer { bits /= UInt64(count) }
                return Int(bits % UInt64(count))
            }
            let answers: [Answer] = [.atHead, .atHead, .atHead, .atRequestEnd, .atRequestEnd, .atRequestEnd, .never, .resetAtHead, .resetAtFirstData]
            self.answer = answers[draw(answers.count)]
            self.informational = draw(4) == 0
            self.status = [200, 204, 206, 304, 404, 418, 500, 503][draw(8)]
            self.bodyLength = [0, 0, 1, 5, 300, 16_384, 16_385, 70_000][draw(8)]
            self.endOnHeaders = draw(2) == 0
            self.stopRequest = draw(3) == 0
            self.consumes = draw(5) != 0
            let codes: [HTTP2ErrorCode] = [.noError, .cancel, .refusedStream, .internalError]
            self.resetCode = codes[draw(codes.count)]
        }
    }

    struct Exchange {
        var plan: Plan
        var contentLength: Int?
        var received = 0
        var requestEnded: Bool
        var answered = false
        /// Body bytes still to frame, once the response head is out.
        var bodyLeft: Int?
    }

    /// Fields after `:status`, as `HTTP2Connection` writes them: some with uppercase letters
    /// and one connection-specific, which the encoder must fix or drop.
    static let responseFields: [(name: String, value: String)] = [
        ("server", "berth"), ("date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Content-Type", "text/plain"),
        ("connection", "close"), ("x-trace", "a b"),
    ]

    let configuration: HTTP2FramesFuzz.Configuration
    let input: FuzzInput
    var decoder = HTTP2FrameDecoder(maxFieldBlockBytes: HTTP2FramesFuzz.maxHeaderListSize)
    var state: HTTP2ConnectionState
    var output = ByteBuffer()
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var exchanges: [UInt32: Exchange] = [:]
    var taken: Set<UInt32> = []
    /// Streams whose plan reports every request byte consumed.
    var consuming: [UInt32] = []
    var actions: [Action] = []
    var closed = false
    var view: HTTP2ClientView?
    private var frames = 0
    private var finalGoAwayAt: Int?

    init(_ configuration: HTTP2FramesFuzz.Configuration, input: FuzzInput, checking: Bool) {
        self.configuration = configuration
        self.input = input
        self.state = HTTP2ConnectionState(
            maxHeaderListSize: HTTP2FramesFuzz.maxHeaderListSize, initialWindowSize: configuration.streamWindow,
            connectionWindowSize: configuration.connectionWindow)
        if checking {
            self.view = HTTP2ClientView(input: input, streamWindowSize: configuration.streamWindow, connectionWindowSize: configuration.connectionWindow)
        }
        self.state.start(output: &self.output)
        if configuration.shutdown == .atStart { self.perform(self.state.beginGracefulShutdown(output: &self.output)) }
        self.view?.parse(self.output)
    }

    // MARK: - The client's frames

    mutating func receive(_ frame: Frame) {
        self.frames += 1
        self.view?.clientFrame(frame, streamState: self.state.state(ofStream: frame.streamID))
        let action = self.state.receive(frame, now: self.now, output: &self.output)
        self.actions.append(action)
        self.view?.parse(self.output)
        self.view?.receiveEnded(frame, action: action)
        self.handle(action, frame: frame)
        self.pump()
        if self.finalGoAwayAt == self.frames { self.perform(self.state.stopAcceptingStreams(output: &self.output)) }
        self.check()
        if !self.configuration.frozenClock { self.now = self.now + .seconds(1) }
    }

    /// A connection error found by the decoder: GOAWAY with its code, and the connection ends.
    mutating func decoderFailed(_ error: HTTP2ConnectionError) {
        let before = self.output.writerIndex
        let action = self.state.fail(error, output: &self.output)
        self.actions.append(action)
        self.input.require(action == .closeConnection, "a decoder error gave \(action)")
        let frames = ServerFramesView(self.output.getSlice(at: before, length: self.output.writerIndex - before)!)
        self.input.require(frames.goAwayCodes == [error.code], "a decoder error (\(error)) answered by \(frames.goAwayCodes)")
        self.view?.parse(self.output)
        self.closed = true
        self.view?.connectionClosed()
    }

    private mutating func handle(_ action: Action, frame: Frame) {
        switch action {
        case .none, .sendWindowOpened:
            break
        case .requestHead(let streamID, let head, let contentLength, let endStream):
            guard case .headers(streamID, _, endStream) = frame else {
                self.input.require(false, "\(action) from \(frame)")
                return
            }
            self.input.require(!self.taken.contains(streamID), "a second request head on stream \(streamID)")
            if self.view != nil { HTTP2FramesFuzz.checkHead(head, contentLength: contentLength, self.input) }
            self.view?.requestHead(streamID)
            let plan = Plan(seed: self.configuration.seed, streamID: streamID)
            self.taken.insert(streamID)
            if plan.consumes { self.consuming.append(streamID) }
            self.exchanges[streamID] = Exchange(plan: plan, contentLength: contentLength, requestEnded: endStream)
            if self.taken.count == 1 {
                switch self.configuration.shutdown {
                case .atFirstRequest: self.perform(self.state.beginGracefulShutdown(output: &self.output))
                case .finalAfterFirstRequest:
                    self.perform(self.state.beginGracefulShutdown(output: &self.output))
                    self.finalGoAwayAt = self.frames + 3
                case .off, .atStart: break
                }
            }
            switch plan.answer {
            case .atHead: self.respond(streamID)
            case .atRequestEnd where endStream: self.respond(streamID)
            case .resetAtHead: self.reset(streamID)
            default: break
            }
        case .requestData(let streamID, let data, let endStream):
            guard case .data(streamID, let payload, endStream, _) = frame, payload == data else {
                self.input.require(false, "\(action) from \(frame)")
                return
            }
            guard var exchange = self.exchanges[streamID], !exchange.requestEnded else {
                self.input.require(false, "request data on stream \(streamID), which has no request running or whose request ended")
                return
            }
            exchange.received += data.readableBytes
            if let length = exchange.contentLength {
                self.input.require(exchange.received <= length && (!endStream || exchange.received == length), "\(exchange.received) body bytes for content-length \(length)")
            }
            exchange.requestEnded = endStream
            self.exchanges[streamID] = exchange
            if exchange.plan.consumes { self.state.consumed(streamID: streamID, bytes: data.readableBytes, output: &self.output) }
            if exchange.plan.answer == .resetAtFirstData {
                self.reset(streamID)
            } else if endStream && exchange.plan.answer == .atRequestEnd {
                self.respond(streamID)
            }
        case .requestEnd(let streamID):
            guard case .headers(streamID, _, true) = frame, var exchange = self.exchanges[streamID], !exchange.requestEnded else {
                self.input.require(false, "\(action) from \(frame), for no running request")
                return
            }
            if let length = exchange.contentLength { self.input.require(exchange.received == length, "trailers after \(exchange.received) of \(length) bytes") }
            exchange.requestEnded = true
            self.exchanges[streamID] = exchange
            if exchange.plan.answer == .atRequestEnd { self.respond(streamID) }
        case .streamCancelled(let streamID, _):
            self.input.require(self.taken.contains(streamID), "stream \(streamID) cancelled, which carried no request")
            self.exchanges[streamID] = nil
        case .closeConnection:
            self.connectionClosed()
        }
    }

    // MARK: - The server's answers

    private mutating func respond(_ streamID: UInt32) {
        guard var exchange = self.exchanges[streamID], !exchange.answered else { return }
        exchange.answered = true
        self.exchanges[streamID] = exchange
        let plan = exchange.plan
        if plan.informational {
            var block = ByteBuffer()
            HPACKResponseEncoder.writeStatus(100, into: &block)
            guard self.perform(self.state.sendHeaders(streamID: streamID, fieldBlock: block, endStream: false, output: &self.output)) else { return }
        }
        var block = ByteBuffer()
        HPACKResponseEncoder.writeStatus(plan.status, into: &block)
        HPACKResponseEncoder.writeFields(Self.responseFields, into: &block)
        if plan.bodyLength == 0 && plan.endOnHeaders {
            self.perform(
                self.state.sendHeaders(streamID: streamID, fieldBlock: block, endStream: true, stopRequest: plan.stopRequest, output: &self.output))
            self.exchanges[streamID] = nil
            return
        }
        guard self.perform(self.state.sendHeaders(streamID: streamID, fieldBlock: block, endStream: false, output: &self.output)) else { return }
        self.exchanges[streamID]?.bodyLeft = plan.bodyLength
    }

    private mutating func reset(_ streamID: UInt32) {
        guard let exchange = self.exchanges.removeValue(forKey: streamID) else { return }
        self.perform(self.state.resetStream(streamID: streamID, code: exchange.plan.resetCode, output: &self.output))
    }

    /// Frames response bodies as far as the windows allow, lowest stream first.
    private mutating func pump() {
        for streamID in self.exchanges.keys.sorted() {
            guard !self.closed, let exchange = self.exchanges[streamID], var left = exchange.bodyLeft else { continue }
            while true {
                let length = min(left, self.state.sendableBytes(streamID: streamID))
                if length == 0 && left > 0 { break }
                guard self.perform(self.state.sendDataHeader(streamID: streamID, length: length, endStream: length == left, output: &self.output)) else {
                    return
                }
                self.output.writeRepeatingByte(0x62, count: length)
                left -= length
                if left == 0 {
                    self.exchanges[streamID] = nil
                    self.perform(self.state.responseWritten(streamID: streamID, stopRequest: exchange.plan.stopRequest, output: &self.output))
                    break
                }
            }
            self.exchanges[streamID]?.bodyLeft = left
        }
    }

    /// Acts on what a server-side call returned; false once the stream or connection is gone.
    @discardableResult
    private mutating func perform(_ action: Action) -> Bool {
        switch action {
        case .none, .sendWindowOpened:
            return true
        case .closeConnection:
            self.connectionClosed()
            return false
        case .streamCancelled(let streamID, _):
            // The state closes no stream that an exchange still runs without telling it.
            self.input.require(self.exchanges[streamID] == nil, "stream \(streamID) was gone when its exchange wrote")
            return false
        case .requestHead, .requestData, .requestEnd:
            self.input.require(false, "a server-side call returned \(action)")
            return false
        }
    }

    private mutating func connectionClosed() {
        self.closed = true
        self.view?.parse(self.output)
        self.view?.connectionClosed()
    }

    // MARK: - End of input

    /// The input ended: a graceful shutdown, then every exchange still running is reset, so
    /// the connection closes.
    mutating func shutDown() {
        guard !self.closed else { return }
        self.perform(self.state.beginGracefulShutdown(output: &self.output))
        if !self.closed { self.perform(self.state.stopAcceptingStreams(output: &self.output)) }
        let running = self.exchanges.keys.sorted()
        for streamID in running {
            if self.closed { break }
            self.reset(streamID)
        }
        self.view?.parse(self.output)
        if !self.closed { self.checkDraining() }
    }

    /// Only streams the server finished whose request is still arriving (half-closed local)
    /// keep a connection open after the final GOAWAY: the client ends them.
    private func checkDraining() {
        self.input.require(self.state.streams.activeCount > 0, "no stream left after the final GOAWAY, yet the connection stays open")
        for streamID in self.taken {
            let state = self.state.state(ofStream: streamID)
            self.input.require(state == .closed || state == .halfClosedLocal, "stream \(streamID) is \(state) after every exchange ended")
        }
    }

    /// Once closed, nothing the server still does writes anything.
    mutating func probeAfterClose() {
        guard self.closed else { return }
        let before = self.output
        for streamID in self.taken.sorted() {
            self.input.require(self.state.sendableBytes(streamID: streamID) == 0, "window open on stream \(streamID) after close")
            var block = ByteBuffer()
            HPACKResponseEncoder.writeStatus(200, into: &block)
            _ = self.state.sendHeaders(streamID: streamID, fieldBlock: block, endStream: false, output: &self.output)
            _ = self.state.sendDataHeader(streamID: streamID, length: 0, endStream: true, output: &self.output)
            _ = self.state.responseWritten(streamID: streamID, output: &self.output)
            self.state.consumed(streamID: streamID, bytes: 100, output: &self.output)
            _ = self.state.resetStream(streamID: streamID, code: .cancel, output: &self.output)
        }
        _ = self.state.beginGracefulShutdown(output: &self.output)
        _ = self.state.stopAcceptingStreams(output: &self.output)
        _ = self.state.receive(.ping(opaque: 1), now: self.now, output: &self.output)
        _ = self.state.fail(HTTP2ConnectionError(.protocolError, "again"), output: &self.output)
        self.input.require(self.output == before, "\(self.output.readableBytes - before.readableBytes) bytes written after the connection closed")
    }

    // MARK: - After each event

    private mutating func check() {
        self.view?.parse(self.output)
        guard let view = self.view, !self.closed else { return }
        let active = self.state.streams.activeCount
        self.input.require(active <= HTTP2ConnectionState.maxConcurrentStreams, "\(active) streams active")
        self.input.require(self.exchanges.count <= active, "\(self.exchanges.count) exchanges running on \(active) active streams")
        for (streamID, exchange) in self.exchanges {
            let expected: HTTP2Stream.State = exchange.requestEnded ? .halfClosedRemote : .open
            let state = self.state.state(ofStream: streamID)
            self.input.require(state == expected, "stream \(streamID) is \(state) while its exchange runs (request ended: \(exchange.requestEnded))")
            if let left = exchange.bodyLeft, left > 0 {
                self.input.require(view.sendable(streamID) <= 0, "stream \(streamID) waits with \(left) bytes to send while the client allows \(view.sendable(streamID))")
            }
        }
        // Streams whose every received byte was consumed, by the server or (once the
        // response is complete) by the connection state, and whose client may still send.
        let consuming = self.consuming.filter {
            let state = self.state.state(ofStream: $0)
            return state == .open || state == .halfClosedLocal
        }
        view.checkNoWindowLeak(activeStreams: active, consumingStreams: consuming)
    }
}

/// The error codes in a run of server frames.
struct ServerFramesView {
    var goAwayCodes: [HTTP2ErrorCode] = []
    var resetCodes: [HTTP2ErrorCode] = []

    init(_ buffer: ByteBuffer) {
        var buffer = buffer
        while let lengthAndType = buffer.readInteger(as: UInt32.self), let _ = buffer.readInteger(as: UInt8.self),
            let _ = buffer.readInteger(as: UInt32.self), var payload = buffer.readSlice(length: Int(lengthAndType >> 8))
        {
            switch UInt8(truncatingIfNeeded: lengthAndType) {
            case HTTP2FrameType.goAway:
                if let _ = payload.readInteger(as: UInt32.self), let code = payload.readInteger(as: UInt32.self) {
                    self.goAwayCodes.append(HTTP2ErrorCode(rawValue: code))
                }
            case HTTP2FrameType.rstStream:
                if let code = payload.readInteger(as: UInt32.self) { self.resetCodes.append(HTTP2ErrorCode(rawValue: code)) }
            default:
                break
            }
        }
    }
}

extension HTTP2FrameDecoder.Frame {
    /// The stream a frame belongs to; 0 for the connection's.
    var streamID: UInt32 {
        switch self {
        case .data(let streamID, _, _, _), .headers(let streamID, _, _), .priority(let streamID), .rstStream(let streamID, _),
            .windowUpdate(let streamID, _):
            streamID
        case .settings, .settingsAck, .ping, .pingAck, .goAway:
            0
        }
    }
}
