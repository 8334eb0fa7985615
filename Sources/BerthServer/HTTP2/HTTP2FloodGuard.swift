import NIOCore

/// Flood protection for one connection. Frames that cost the server work but give the client nothing
/// (PING, SETTINGS, PRIORITY, WINDOW_UPDATE on closed streams, empty DATA), streams the client
/// resets (the "rapid reset" attack, CVE-2023-44487), and stream errors the client provokes are
/// each limited to 200 in 30 s; beyond that the connection ends with ENHANCE_YOUR_CALM
/// (RFC 9113 §7, §10.5).
struct HTTP2FloodGuard: Sendable {
    private var controlFrames: HTTP2RateLimit
    private var clientResets: HTTP2RateLimit
    private var streamErrors: HTTP2RateLimit

    init(maximum: Int = 200, window: TimeAmount = .seconds(30)) {
        self.controlFrames = HTTP2RateLimit(maximum: maximum, window: window)
        self.clientResets = HTTP2RateLimit(maximum: maximum, window: window)
        self.streamErrors = HTTP2RateLimit(maximum: maximum, window: window)
    }

    mutating func controlFrame(at now: NIODeadline) throws(HTTP2ConnectionError) {
        guard self.controlFrames.record(at: now) else { throw HTTP2ConnectionError(.enhanceYourCalm, "too many control frames") }
    }

    mutating func clientReset(at now: NIODeadline) throws(HTTP2ConnectionError) {
        guard self.clientResets.record(at: now) else { throw HTTP2ConnectionError(.enhanceYourCalm, "too many stream resets") }
    }

    mutating func streamError(at now: NIODeadline) throws(HTTP2ConnectionError) {
        guard self.streamErrors.record(at: now) else { throw HTTP2ConnectionError(.enhanceYourCalm, "too many stream errors") }
    }
}

/// A flood limit: at most `maximum` events in any `window`, on average, with bursts up to
/// `maximum` (the generic cell rate algorithm: a budget of `window` that refills with time,
/// each event costing `window / maximum`). Constant memory, whatever the event rate.
struct HTTP2RateLimit: Sendable {
    let maximum: Int
    let window: Int64
    private let cost: Int64
    private var budget: Int64
    private var last: NIODeadline?

    init(maximum: Int, window: TimeAmount) {
        precondition(maximum > 0 && window.nanoseconds > 0)
        self.maximum = maximum
        self.window = window.nanoseconds
        self.cost = window.nanoseconds / Int64(maximum)
        self.budget = window.nanoseconds
    }

    /// Records one event; false once the events outrun the limit.
    mutating func record(at now: NIODeadline) -> Bool {
        if let last = self.last, now > last {
            self.budget = min(self.window, self.budget + (now - last).nanoseconds)
        }
        if self.last.map({ now > $0 }) ?? true { self.last = now }
        self.budget -= self.cost
        return self.budget >= 0
    }
}
