import Foundation

/// When to order a host's certificate next: a plain state machine, fed what happened and
/// asked what to do at a given time, so every rule is tested without a clock or a CA.
///
/// - A certificate is renewed at two thirds of its lifetime (Let's Encrypt's advice, which
///   leaves a third for retries), or earlier when the CA's renewal window (RFC 9773) opens
///   before that.
/// - A failed order is retried with exponential back-off, capped, so a CA that refuses is not
///   hammered and a transient failure is retried soon.
/// - The current certificate keeps serving meanwhile; this type never discards it.
public struct RenewalSchedule: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        /// Renew once this fraction of the lifetime (notBefore to notAfter) has passed.
        public var renewalFraction: Double = 2.0 / 3.0
        /// The wait after the first failure; it doubles with each failure in a row.
        public var firstRetry: Duration = .seconds(60)
        /// The longest wait between two attempts.
        public var maximumRetry: Duration = .seconds(6 * 3600)
        /// How often renewal information is fetched when the CA gives no Retry-After; RFC 9773
        /// §4.3 suggests polling a few times a day.
        public var renewalInfoInterval: Duration = .seconds(6 * 3600)

        public init() {}
    }

    public enum Action: Sendable, Equatable {
        /// Place an order now.
        case order
        /// Ask the CA for its renewal window (RFC 9773 §4.2) now.
        case checkRenewalInfo
        /// Nothing to do before this time.
        case wait(until: Date)
    }

    public let policy: Policy
    /// The validity of the certificate in service, nil before the first one.
    public private(set) var lifetime: ClosedRange<Date>?
    /// The moment picked inside the CA's renewal window, if it gave one.
    public private(set) var suggestedRenewal: Date?
    public private(set) var nextRenewalInfoCheck: Date?
    public private(set) var failuresInARow = 0
    public private(set) var retryAt: Date?
    /// Whether the CA offers renewal information at all (its directory has `renewalInfo`).
    public var renewalInfoSupported: Bool

    public init(policy: Policy = Policy(), renewalInfoSupported: Bool = false) {
        self.policy = policy
        self.renewalInfoSupported = renewalInfoSupported
    }

    /// When the certificate in service is due: two thirds of its lifetime, or the CA's
    /// suggested moment when that is earlier.
    public var renewalTime: Date? {
        guard let lifetime else { return nil }
        let span = lifetime.upperBound.timeIntervalSince(lifetime.lowerBound)
        let byLifetime = lifetime.lowerBound.addingTimeInterval(span * policy.renewalFraction)
        return suggestedRenewal.map { min($0, byLifetime) } ?? byLifetime
    }

    /// A certificate was issued (or found valid in storage) and is now in service.
    public mutating func installed(notBefore: Date, notAfter: Date, at now: Date) {
        lifetime = notBefore...max(notBefore, notAfter)
        suggestedRenewal = nil
        failuresInARow = 0
        retryAt = nil
        nextRenewalInfoCheck = renewalInfoSupported ? now : nil
    }

    /// The CA's renewal window arrived. RFC 9773 §4.2: pick a uniformly random time inside it
    /// (`randomFraction` in 0..<1, so many servers do not renew at the same second); a window
    /// already over means renew now.
    public mutating func received(_ info: RenewalInfo, randomFraction: Double, at now: Date) {
        let span = info.windowEnd.timeIntervalSince(info.windowStart)
        let fraction = min(max(randomFraction, 0), 1)
        suggestedRenewal = info.windowEnd <= now ? now : info.windowStart.addingTimeInterval(span * fraction)
        let interval = info.retryAfter.map { min(max($0, .seconds(60)), .seconds(24 * 3600)) }
            ?? policy.renewalInfoInterval
        nextRenewalInfoCheck = now.addingTimeInterval(interval.inSeconds)
    }

    /// Asking for renewal information failed: ask again later; renewal falls back to two thirds.
    public mutating func renewalInfoFailed(at now: Date) {
        nextRenewalInfoCheck = now.addingTimeInterval(policy.renewalInfoInterval.inSeconds)
    }

    /// An order failed: wait `firstRetry` × 2^(failures − 1), at most `maximumRetry`.
    public mutating func orderFailed(at now: Date) {
        failuresInARow += 1
        retryAt = now.addingTimeInterval(backoff(afterFailures: failuresInARow).inSeconds)
    }

    public func backoff(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let doublings = min(failures - 1, 40)
        let seconds = policy.firstRetry.inSeconds * pow(2, Double(doublings))
        return .seconds(min(seconds, policy.maximumRetry.inSeconds))
    }

    public func nextAction(at now: Date) -> Action {
        var due = renewalTime ?? now
        if let retryAt { due = max(due, retryAt) }
        if due <= now { return .order }
        if let check = nextRenewalInfoCheck, renewalInfoSupported {
            return check <= now ? .checkRenewalInfo : .wait(until: min(due, check))
        }
        return .wait(until: due)
    }
}

extension Duration {
    var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
