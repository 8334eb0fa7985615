import Foundation

/// The order life cycle of RFC 8555 §7.4: new order, authorizations, challenges, finalize,
/// download. Each call is one request; `CertificateIssuer` strings them together.
extension ACMEClient {
    /// §7.4: an order for `names`, all `dns` identifiers. Returns the order and its URL.
    public func newOrder(names: [String]) async throws -> (url: String, order: ACMEOrder) {
        let url = try await directory().newOrder
        let response = try await postJSON(url, ["identifiers": names.map(ACMEIdentifier.init(dns:))])
        guard let location = response.header("Location") else {
            throw ACMEError.unexpectedResponse(status: response.status, url: url, detail: "no order Location")
        }
        return (location, try decode(response, from: url))
    }

    /// §7.5: authorizations and orders are read with POST-as-GET (§6.3).
    public func authorization(_ url: String) async throws -> ACMEAuthorization {
        try decode(try await post(url, payload: nil), from: url)
    }

    public func order(_ url: String) async throws -> ACMEOrder {
        try decode(try await post(url, payload: nil), from: url)
    }

    /// §7.5.1: the client says it is ready for validation by posting an empty object.
    ///
    /// A post whose answer was lost (a transport retry, a slow CA) may have been taken: the
    /// CA then refuses the repeat because the challenge is no longer pending. The challenge as
    /// the CA has it decides: being validated, or valid, is what the post asked for.
    public func respond(to challenge: ACMEChallenge) async throws {
        do {
            _ = try await post(challenge.url, payload: Array("{}".utf8))
        } catch ACMEError.problem(let problem, let url) {
            let current: ACMEChallenge? = try? decode(try await post(challenge.url, payload: nil), from: challenge.url)
            guard let current, current.status == .processing || current.status == .valid else {
                throw ACMEError.problem(problem, url: url)
            }
            logger.debug("acme challenge was answered already", metadata: ["acme.url": "\(challenge.url)", "acme.status": "\(current.status)"])
        }
    }

    /// §7.5.1: polls an authorization until it is no longer pending, honouring Retry-After.
    public func waitForAuthorization(_ url: String, deadline: Duration) async throws -> ACMEAuthorization {
        try await poll(url, what: "validation", deadline: deadline) { (authz: ACMEAuthorization) in
            authz.status != .pending
        }
    }

    /// §7.4: sends the CSR once the order is ready, then polls until it leaves `processing`.
    ///
    /// A finalize whose answer was lost (a transport retry, a slow CA) may have been taken: the
    /// CA then refuses the repeat with `orderNotReady`, and §7.4 says to read the order. An
    /// order being issued, or issued, is what the finalize asked for; it is polled as usual.
    public func finalize(_ order: ACMEOrder, url orderURL: String, csrDER: [UInt8],
                         deadline: Duration) async throws -> ACMEOrder {
        let finalized: ACMEOrder
        var firstDelay: Duration?
        do {
            let response = try await postJSON(order.finalize, ["csr": Base64URL.encode(csrDER)])
            finalized = try decode(response, from: order.finalize)
            firstDelay = retryDelay(response)
        } catch ACMEError.problem(let problem, let url) where problem.acmeErrorName == "orderNotReady" {
            let current: ACMEOrder? = try? await self.order(orderURL)
            guard let current, current.status == .processing || current.status == .valid else {
                throw ACMEError.problem(problem, url: url)
            }
            logger.debug("acme order was finalized already", metadata: ["acme.url": "\(orderURL)", "acme.status": "\(current.status)"])
            finalized = current
        }
        if finalized.status == .valid || finalized.status == .invalid { return finalized }
        return try await poll(orderURL, what: "issuance", deadline: deadline, firstDelay: firstDelay) {
            (order: ACMEOrder) in order.status != .processing && order.status != .ready
        }
    }

    /// §7.4.2: the chain as PEM, leaf first.
    public func downloadCertificate(_ url: String) async throws -> String {
        let response = try await post(url, payload: nil, accept: "application/pem-certificate-chain")
        return String(decoding: response.body, as: UTF8.self)
    }

    /// RFC 9773 §4.2: an unauthenticated GET of `renewalInfo/<certID>`; nil when the CA does
    /// not offer ARI.
    public func renewalInfo(certificateID: String) async throws -> RenewalInfo? {
        guard let base = try await directory().renewalInfo else { return nil }
        let url = base.hasSuffix("/") ? base + certificateID : base + "/" + certificateID
        let response = try await send(ACMEHTTPRequest(method: "GET", url: url))
        let body: RenewalInfo.Body = try decode(response, from: url)
        return try RenewalInfo(body: body, retryAfter: RetryAfter.parse(response.header("Retry-After")))
    }

    // MARK: - Polling

    private func poll<Resource: Decodable & Sendable>(
        _ url: String, what: String, deadline: Duration, firstDelay: Duration? = nil,
        until done: (Resource) -> Bool
    ) async throws -> Resource {
        let clock = ContinuousClock()
        let end = clock.now + deadline
        var delay = firstDelay ?? .seconds(1)
        while true {
            try await Task.sleep(for: min(delay, max(.zero, end - clock.now)))
            let response = try await post(url, payload: nil)
            let resource: Resource = try decode(response, from: url)
            if done(resource) { return resource }
            guard clock.now < end else { throw ACMEError.timedOut(what: "\(what) at \(url)") }
            // The CA's Retry-After wins (§8.2); without one, back off gently up to 10s.
            delay = retryDelay(response) ?? min(delay * 2, .seconds(10))
        }
    }

    private func retryDelay(_ response: ACMEHTTPResponse) -> Duration? {
        RetryAfter.parse(response.header("Retry-After")).map { min(max($0, .seconds(1)), .seconds(60)) }
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an IMF-fixdate that is turned into a
/// delay from now.
enum RetryAfter {
    static func parse(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSince(now).rounded(.up))))
    }
}
