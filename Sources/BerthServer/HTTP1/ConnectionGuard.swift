#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// What the HTTP handlers tell the connection guard about a connection's progress.
enum ConnectionProgress: Sendable, Equatable {
    /// A complete request head was parsed: header reading is over.
    case requestHeadReceived(expectsBody: Bool)
    /// The request body was read to its end (or is being discarded).
    case requestBodyComplete
    /// The response was handed to the socket; the connection may idle until the next request.
    case responseComplete
    /// Close after a response that left unread request bytes behind: shut down our side,
    /// drain what the client still sends for a moment, then close. Closing at once would
    /// make the kernel answer those bytes with a reset, which can destroy the response
    /// before the client reads it.
    case closeAfterDraining
}

/// The timers of one connection, and the size of a request head still being read, as a
/// plain state machine (no I/O), so every transition is testable without sockets.
///
/// - idle: waiting for the first byte of a request; `idle_timeout` closes silently.
/// - readingHead: bytes arrived but the head is incomplete; `header_timeout` runs from the
///   first byte, so a client trickling one byte a second is cut off when it expires.
/// - readingBody: `body_timeout` runs between body reads.
/// - busy: the server owns the connection (handler working, response being written).
///
/// The size of a head in progress is checked here too, before the parser buffers it, and on
/// every connection kind (HTTP/1.1 behind TLS as well): 414 while no end of the request line
/// was seen, 431 past the whole head budget. It also covers the 408 a parser cannot send.
struct ConnectionGuardState: Sendable {
    enum Phase: Equatable, Sendable { case idle, readingHead, readingBody, busy, draining }

    /// How long a closing connection keeps reading (and dropping) what the client sends.
    static let drainTime = TimeAmount.seconds(2)

    enum Action: Equatable, Sendable {
        case none
        /// Cancel the running timer and start one of this length.
        case arm(TimeAmount)
        case cancel
    }

    enum Expiry: Equatable, Sendable {
        /// Close without a response: nothing was asked.
        case closeSilently
        /// Answer 408 Request Timeout, then close.
        case requestTimeout
    }

    enum HeadVerdict: Equatable, Sendable {
        case withinLimits
        case requestLineTooLong
        case headTooLarge
    }

    let headerTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let maxRequestLineBytes: Int
    let maxHeadBytes: Int
    private(set) var phase: Phase = .idle
    private var headBytes = 0
    private var sawLineEnd = false

    init(headerTimeout: TimeAmount, bodyTimeout: TimeAmount, idleTimeout: TimeAmount, maxRequestLineBytes: Int = .max, maxHeadBytes: Int = .max) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeadBytes = maxHeadBytes
    }

    /// Whether a head-in-progress must be scanned for its first line end.
    var needsLineEndScan: Bool { self.phase == .readingHead && !self.sawLineEnd }

    /// Called before a read is handed to the parser: a request line that has no end yet and
    /// would exceed its limit with these bytes is refused before the parser buffers them.
    func requestLineOverflows(adding bytes: Int, sawLineEnd: Bool) -> Bool {
        self.phase == .readingHead && !self.sawLineEnd && !sawLineEnd && self.headBytes + bytes > self.maxRequestLineBytes
    }

    /// Called after a read was handed to the parser: if the head is still incomplete, has
    /// it outgrown the limits?
    mutating func headProgress(bytes: Int, sawLineEnd: Bool) -> HeadVerdict {
        guard self.phase == .readingHead else { return .withinLimits }
        self.headBytes += bytes
        if sawLineEnd { self.sawLineEnd = true }
        if !self.sawLineEnd && self.headBytes > self.maxRequestLineBytes { return .requestLineTooLong }
        if self.headBytes > self.maxHeadBytes { return .headTooLarge }
        return .withinLimits
    }

    mutating func connectionStarted() -> Action {
        self.phase = .idle
        return .arm(self.idleTimeout)
    }

    mutating func bytesRead() -> Action {
        switch self.phase {
        case .draining:
            return .none
        case .idle:
            self.phase = .readingHead
            self.headBytes = 0
            self.sawLineEnd = false
            return .arm(self.headerTimeout)
        case .readingBody:
            return .arm(self.bodyTimeout)
        case .readingHead, .busy:
            return .none
        }
    }

    mutating func progress(_ event: ConnectionProgress) -> Action {
        switch event {
        case .requestHeadReceived(let expectsBody):
            if expectsBody {
                self.phase = .readingBody
                return .arm(self.bodyTimeout)
            }
            self.phase = .busy
            return .cancel
        case .requestBodyComplete:
            guard self.phase == .readingBody else { return .none }
            self.phase = .busy
            return .cancel
        case .responseComplete:
            // A pipelined head may already be buffered; it will move us on again at once.
            self.phase = .idle
            return .arm(self.idleTimeout)
        case .closeAfterDraining:
            self.phase = .draining
            return .arm(Self.drainTime)
        }
    }

    func expired() -> Expiry {
        switch self.phase {
        case .idle, .busy, .draining: return .closeSilently
        case .readingHead, .readingBody: return .requestTimeout
        }
    }
}

/// Enforces the header, body and idle timeouts of an HTTP/1.1 connection and the size of a
/// request head in progress. `HTTP1Connection` drives it: every read passes `bytesArrive`
/// before the parser and `bytesParsed` after it, and the connection reports its progress. It
/// is not a pipeline handler of its own: a handler in between would cost every read and
/// every event a pipeline hop.
final class ConnectionGuard {
    private var state: ConnectionGuardState
    /// The connection's context, while it is in the pipeline.
    private var context: ChannelHandlerContext?
    /// When the current phase expires; nil while no timeout runs.
    private var deadline: NIODeadline?
    /// One scheduled task at a time, possibly earlier than `deadline`: moving a deadline
    /// later (every keep-alive request does) costs an assignment, not a reschedule.
    private var timer: Scheduled<Void>?
    private var timerFiresAt = NIODeadline.distantFuture
    private var rejected = false
    /// The server is stopping: requests still get answered, with `Connection: close`, and the
    /// connection closes after its response; an idle one after `quiesceGrace`.
    private var stopping = false

    /// How long a connection that was idle when the server began to stop may still send a
    /// request. Closing it at once races a request the client may be sending that very moment,
    /// which it would then have to retry; a busy keep-alive client sends its next request well
    /// within this and gets its answer.
    static let quiesceGrace = TimeAmount.seconds(1)

    /// For the request handler: the response to a request read now announces the close.
    var isStopping: Bool { self.stopping }

    /// Answers a refusal (408, 414, 431): the HTTP/1.1 connection writes it.
    var onRefusal: ((Int) -> Void)?

    init(limits: ConnectionLimits) {
        self.state = ConnectionGuardState(
            headerTimeout: limits.headerTimeout,
            bodyTimeout: limits.bodyTimeout,
            idleTimeout: limits.idleTimeout,
            maxRequestLineBytes: limits.maxRequestLineBytes,
            maxHeadBytes: limits.maxHeadBytes
        )
    }

    /// The connection joined its pipeline (`active`: its socket is connected already).
    func attach(_ context: ChannelHandlerContext, active: Bool) {
        self.context = context
        if active { self.perform(self.state.connectionStarted(), context: context) }
    }

    /// The socket became connected: the idle timeout starts.
    func connectionStarted() {
        guard let context else { return }
        self.perform(self.state.connectionStarted(), context: context)
    }

    /// The connection closed or left its pipeline: no timer outlives it.
    func detach() {
        self.timer?.cancel()
        self.timer = nil
        self.context = nil
        self.onRefusal = nil
    }

    /// What `bytesArrive` saw of a read, for `bytesParsed`.
    struct Read {
        fileprivate let count: Int
        fileprivate let sawLineEnd: Bool
        /// The timer the read asks for, and the phase it asks for it in (see `bytesParsed`).
        fileprivate let timer: ConnectionGuardState.Action
        fileprivate let phase: ConnectionGuardState.Phase
    }

    /// Bytes arrived, before the parser sees them. Nil when they must not reach it: the
    /// connection drains, or the request line would outgrow its limit (answered with 414).
    func bytesArrive(_ buffer: ByteBuffer) -> Read? {
        guard let context, self.state.phase != .draining else { return nil }
        let timer = self.state.bytesRead()
        let count = buffer.readableBytes
        // `memchr`, a word at a time: a browser's head is half a kilobyte.
        let sawLineEnd = self.state.needsLineEndScan && buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return false }
            return memchr(base, Int32(UInt8(ascii: "\n")), bytes.count) != nil
        }
        if self.state.requestLineOverflows(adding: count, sawLineEnd: sawLineEnd) {
            self.reject(414, context: context)
            return nil
        }
        return Read(count: count, sawLineEnd: sawLineEnd, timer: timer, phase: self.state.phase)
    }

    /// The parser took the bytes of `read`; a head it completed has moved the state out of
    /// readingHead already, so only a head still incomplete is measured.
    ///
    /// The read's timer (the header timeout for a new head, the body timeout again for body
    /// bytes) is armed only now, and only if the parser left the phase as the read found it:
    /// a head that arrived whole has moved on already, with a timer of its own or none, and
    /// needs no reading of the clock for a deadline it would never reach.
    func bytesParsed(_ read: Read) {
        guard let context else { return }
        if self.state.phase == read.phase { self.perform(read.timer, context: context) }
        switch self.state.headProgress(bytes: read.count, sawLineEnd: read.sawLineEnd) {
        case .withinLimits:
            break
        case .requestLineTooLong:
            self.reject(414, context: context)
        case .headTooLarge:
            self.reject(431, context: context)
        }
    }

    /// The connection's progress through a request; `now`, when the caller read the loop's
    /// clock just before (the exchange's end), spares another reading for a new deadline.
    func progress(_ progress: ConnectionProgress, at now: NIODeadline? = nil) {
        guard let context = self.context, self.state.phase != .draining else { return }
        self.perform(self.state.progress(progress), context: context, now: now)
        if progress == .closeAfterDraining {
            context.close(mode: .output, promise: nil)
        } else if progress == .responseComplete && self.stopping {
            self.closeWhenFlushed(context: context)
        }
    }

    /// A graceful stop: a busy connection closes when the response in progress is out (see
    /// `.responseComplete`), an idle one after `quiesceGrace` unless a request comes first.
    func quiesce() {
        guard let context else { return }
        self.stopping = true
        if self.state.phase == .idle {
            self.perform(.arm(Self.quiesceGrace), context: context)
        }
    }

    /// The client finished sending. While draining nothing is left to protect: true when the
    /// connection was closed for it.
    func inputClosed() -> Bool {
        guard let context, self.state.phase == .draining else { return false }
        context.close(promise: nil)
        return true
    }

    private func perform(_ action: ConnectionGuardState.Action, context: ChannelHandlerContext, now: NIODeadline? = nil) {
        switch action {
        case .none:
            return
        case .cancel:
            self.deadline = nil
        case .arm(let amount):
            let deadline = (now ?? context.eventLoop.now) + amount
            self.deadline = deadline
            if self.timer == nil || deadline < self.timerFiresAt {
                self.schedule(at: deadline, context: context)
            }
        }
    }

    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timerFiresAt = deadline
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (connectionGuard, context) = loopBound.value
            connectionGuard.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        self.timer = nil
        guard let deadline = self.deadline, self.context != nil else { return }
        if deadline > context.eventLoop.now {
            self.schedule(at: deadline, context: context)
            return
        }
        self.deadline = nil
        switch self.state.expired() {
        case .closeSilently:
            if self.stopping && self.state.phase == .idle {
                self.closeAfterDraining(context: context)
            } else {
                context.close(promise: nil)
            }
        case .requestTimeout:
            self.reject(408, context: context)
        }
    }

    /// The answer is the HTTP/1.1 connection's to write, as an exchange of its own: it knows
    /// where the request stream stands, and the answer then gets the host's error page, the
    /// access log line and the counters like any other. The connection ends after it.
    private func reject(_ status: Int, context: ChannelHandlerContext) {
        guard context.channel.isActive, !self.rejected else { return }
        self.rejected = true
        self.deadline = nil
        if let onRefusal = self.onRefusal {
            onRefusal(status)
        } else {
            context.close(promise: nil)
        }
    }

    /// Writes complete in order, so an empty write completes only after every byte of the
    /// responses before it left: then the connection can close without cutting one off.
    private func closeWhenFlushed(context: ChannelHandlerContext) {
        self.deadline = nil
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(IOData.byteBuffer(context.channel.allocator.buffer(capacity: 0)))).whenComplete { _ in
            let (connectionGuard, context) = loopBound.value
            connectionGuard.closeAfterDraining(context: context)
        }
    }

    /// Shuts down our side and drops what the client still sends until it closes (or
    /// `drainTime` passes): a request it sent meanwhile then meets an orderly end of stream,
    /// which clients retry, instead of a reset, which can also destroy the response before it.
    private func closeAfterDraining(context: ChannelHandlerContext) {
        guard self.state.phase != .draining, context.channel.isActive else { return }
        self.perform(self.state.progress(.closeAfterDraining), context: context)
        context.close(mode: .output, promise: nil)
    }
}
