/// The rules of one request and its answer, the same on HTTP/1.1 and HTTP/2, as a plain state
/// machine (no I/O): every method returns what the protocol handler must do.
///
/// - One answer per request: the first answer wins; later ones (an app finishing after its
///   timeout answered 504) are dropped.
/// - The request body limit, also mid-stream: 413 while nothing was answered yet, a cut-off
///   (HTTP/1.1: close; HTTP/2: reset the stream) once an answer is on its way.
/// - `Expect: 100-continue` (RFC 9110 §10.1.1): "100 Continue" only when a handler wants the
///   body; an answer given without reading it ends the connection afterwards, since the
///   client may never send the body it announced.
/// - An answer to a request whose body is still arriving, from a handler that does not read
///   it, waits for the body's end: a malformed body still gets its 400, and on HTTP/1.1 the
///   next pipelined request starts after it.
/// - HEAD (RFC 9110 §9.3.2): the fields of GET, no body.
/// - Keep-alive: what the request asked, unless the server is stopping or the exchange ended
///   in a way that leaves the connection unusable.
struct ExchangeState {
    enum RequestBody: Equatable {
        /// No body, or it has ended.
        case complete
        case arriving(received: Int)
        /// It outgrew the limit or was malformed: nothing more is read.
        case abandoned
    }

    enum Answer: Equatable {
        case none
        /// Decided, written once the request body has ended.
        case deferred
        /// The head went out; the body is being written.
        case writing
        case done
    }

    let bodyLimit: Int
    let isHead: Bool
    let expectsContinue: Bool
    private(set) var keepAlive: Bool
    private(set) var requestBody: RequestBody
    private(set) var answer = Answer.none
    /// A handler reads the body (an app): it is delivered rather than dropped.
    private(set) var bodyWanted = false

    init(expectsBody: Bool, expectsContinue: Bool, isHead: Bool, keepAlive: Bool, bodyLimit: Int) {
        self.requestBody = expectsBody ? .arriving(received: 0) : .complete
        self.expectsContinue = expectsContinue && expectsBody
        self.isHead = isHead
        self.keepAlive = keepAlive
        self.bodyLimit = bodyLimit
    }

    var isAnswered: Bool { self.answer != .none }

    // MARK: - The request body

    enum WantBodyAction: Equatable {
        case none
        /// Send "100 Continue" now.
        case sendContinue
    }

    /// A handler is going to read the body.
    mutating func handlerWantsBody() -> WantBodyAction {
        self.bodyWanted = true
        if self.expectsContinue, case .arriving(received: 0) = self.requestBody, self.answer == .none { return .sendContinue }
        return .none
    }

    enum BodyAction: Equatable {
        /// Hand the bytes to the handler reading the body.
        case deliver
        /// Read and drop them.
        case discard
        /// Over the limit with no answer yet: answer 413; the body is abandoned.
        case refuseTooLarge
        /// Over the limit with an answer already started: the exchange cannot be completed.
        case cutOff
    }

    mutating func bodyReceived(_ count: Int) -> BodyAction {
        guard case .arriving(let received) = self.requestBody else { return .discard }
        let total = received + count
        if total > self.bodyLimit {
            self.requestBody = .abandoned
            self.keepAlive = false
            switch self.answer {
            case .none, .deferred:
                return .refuseTooLarge
            case .writing, .done:
                return .cutOff
            }
        }
        self.requestBody = .arriving(received: total)
        return self.bodyWanted && self.answer == .none ? .deliver : .discard
    }

    enum BodyEndAction: Equatable {
        case none
        /// Write the answer that waited for the body's end.
        case writeDeferredAnswer
    }

    mutating func bodyEnded() -> BodyEndAction {
        guard case .arriving = self.requestBody else { return .none }
        self.requestBody = .complete
        return self.answer == .deferred ? .writeDeferredAnswer : .none
    }

    /// The body could not be read (malformed framing, a timeout): the connection cannot go on.
    mutating func bodyFailed() {
        if case .arriving = self.requestBody { self.requestBody = .abandoned }
        self.keepAlive = false
    }

    // MARK: - The answer

    enum AnswerAction: Equatable {
        /// Write it now; `withBody` is false for HEAD.
        case write(withBody: Bool)
        /// Hold it until the request body has ended (`bodyEnded` says when).
        case waitForBodyEnd
        /// An answer was given already.
        case drop
    }

    mutating func answer(overriding: Bool = false) -> AnswerAction {
        switch self.answer {
        case .none:
            break
        case .deferred where overriding:
            // A refusal (413, 400) replaces the answer that waited for the body.
            break
        default:
            return .drop
        }
        if case .arriving = self.requestBody, !self.bodyWanted {
            if self.expectsContinue {
                // The client waits for 100 Continue and may never send the body: answer now,
                // and end the connection so its unsent body is never taken for a request.
                self.keepAlive = false
            } else if !overriding {
                self.answer = .deferred
                return .waitForBodyEnd
            }
        }
        self.answer = .writing
        return .write(withBody: !self.isHead)
    }

    /// The deferred answer is written now.
    mutating func deferredAnswerWritten() {
        if self.answer == .deferred { self.answer = .writing }
    }

    enum CompletionAction: Equatable {
        /// The connection (or stream) is free for what comes next.
        case complete
        /// The request body is still arriving and nobody reads it: stop it (HTTP/1.1: close
        /// once the client stops sending; HTTP/2: RST_STREAM NO_ERROR) — or, on HTTP/1.1, read
        /// and drop it up to the next request when `keepAlive` still holds.
        case completeWithBodyArriving
        /// Close the connection once the response is out.
        case close
    }

    /// The whole response has been handed to the transport.
    mutating func responseWritten() -> CompletionAction {
        self.answer = .done
        if !self.keepAlive { return .close }
        if case .arriving = self.requestBody { return .completeWithBodyArriving }
        return .complete
    }

    /// The connection ends after this answer (the server is stopping, or the framing needs
    /// it): the answer announces the close.
    mutating func endsConnection() {
        self.keepAlive = false
    }
}
