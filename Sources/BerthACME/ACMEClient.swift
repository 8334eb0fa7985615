import Foundation
import Logging

/// An ACME client (RFC 8555) for one directory and one account key: the requests of §7, each
/// signed (§6.2), with the nonce bookkeeping of §7.2 and the retry on `badNonce` of §6.5.
///
/// It holds no policy: which names to order, which challenge to answer and when to renew are
/// decided by `CertificateIssuer` and `RenewalSchedule`.
public actor ACMEClient {
    public nonisolated let directoryURL: String
    public nonisolated let accountKey: AccountKey
    private let transport: any ACMETransport
    let logger: Logger
    private var cachedDirectory: ACMEDirectory?
    /// Nonces from `Replay-Nonce` fields, each good for one request (§6.5).
    private var nonces: [String] = []
    /// The account URL once known: requests after newAccount are signed with `kid` (§6.2).
    public private(set) var accountURL: String?

    /// How often one request is sent again after `badNonce`. The CA hands a fresh nonce with
    /// the error, so a second failure in a row is rare; a bound keeps a broken CA from looping.
    static let badNonceRetries = 5

    public init(directoryURL: String, accountKey: AccountKey, transport: any ACMETransport, logger: Logger) {
        self.directoryURL = directoryURL
        self.accountKey = accountKey
        self.transport = transport
        self.logger = logger
    }

    // MARK: - Directory and nonces

    /// §7.1.1: fetched once; every other URL comes from it.
    public func directory() async throws -> ACMEDirectory {
        if let cachedDirectory { return cachedDirectory }
        let response = try await send(ACMEHTTPRequest(method: "GET", url: directoryURL))
        let directory: ACMEDirectory = try decode(response, from: directoryURL)
        cachedDirectory = directory
        return directory
    }

    /// §7.2: a HEAD to newNonce when no earlier response left one.
    private func nextNonce() async throws -> String {
        if let nonce = nonces.popLast() { return nonce }
        let url = try await directory().newNonce
        let response = try await send(ACMEHTTPRequest(method: "HEAD", url: url))
        guard let nonce = response.header("Replay-Nonce") else {
            throw ACMEError.unexpectedResponse(status: response.status, url: url, detail: "no Replay-Nonce")
        }
        nonces.removeAll { $0 == nonce }
        return nonce
    }

    /// Every response may carry a nonce for the next request (§6.5), errors included.
    func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
        let response = try await transport.send(request)
        if let nonce = response.header("Replay-Nonce"), !nonce.isEmpty { nonces.append(nonce) }
        return response
    }

    // MARK: - Signed requests

    /// A POST with a JWS body (§6.2), or a POST-as-GET when `payload` is nil (§6.3). A problem
    /// answer is thrown as `ACMEError.problem`, except `badNonce`, which is retried with the
    /// nonce the error carried (§6.5: "the client SHOULD retry the request").
    func post(_ url: String, payload: [UInt8]?, signer: JSONWebSignature.Signer? = nil,
              accept: String? = nil) async throws -> ACMEHTTPResponse {
        let signer = try signer ?? requireAccount()
        var attempt = 0
        while true {
            let jws = try JSONWebSignature(payload: payload, url: url, nonce: try await nextNonce(), signer: signer)
            var headers = [(name: "Content-Type", value: "application/jose+json")]
            if let accept { headers.append((name: "Accept", value: accept)) }
            let response = try await send(ACMEHTTPRequest(method: "POST", url: url, headers: headers,
                                                          body: try jws.body()))
            guard let problem = problem(in: response) else {
                guard (200..<300).contains(response.status) else {
                    throw ACMEError.unexpectedResponse(status: response.status, url: url,
                                                       detail: String(decoding: response.body.prefix(200), as: UTF8.self))
                }
                return response
            }
            attempt += 1
            if problem.acmeErrorName == "badNonce", attempt <= ACMEClient.badNonceRetries {
                logger.debug("acme nonce refused; retrying", metadata: ["acme.url": "\(url)"])
                continue
            }
            throw ACMEError.problem(problem, url: url)
        }
    }

    func postJSON<Payload: Encodable>(_ url: String, _ payload: Payload,
                                      signer: JSONWebSignature.Signer? = nil) async throws -> ACMEHTTPResponse {
        try await post(url, payload: Array(try JSONEncoder().encode(payload)), signer: signer)
    }

    private func requireAccount() throws -> JSONWebSignature.Signer {
        guard let accountURL else {
            throw ACMEError.unexpectedResponse(status: 0, url: directoryURL,
                                               detail: "no account yet: call account(contact:) first")
        }
        return .kid(accountKey, accountURL: accountURL)
    }

    // MARK: - Accounts

    /// The account of `accountKey`: found with `onlyReturnExisting` (§7.3.1), so a restart or
    /// a lost account URL never creates a second account, else created with `contact`.
    @discardableResult
    public func account(contact: [String]) async throws -> String {
        if let accountURL { return accountURL }
        let url = try await directory().newAccount
        do {
            let response = try await postJSON(url, NewAccount(onlyReturnExisting: true), signer: .jwk(accountKey))
            return try adopt(response, from: url, created: false)
        } catch ACMEError.problem(let problem, _) where problem.acmeErrorName == "accountDoesNotExist" {
            let request = NewAccount(contact: contact, termsOfServiceAgreed: true)
            let response = try await postJSON(url, request, signer: .jwk(accountKey))
            return try adopt(response, from: url, created: true)
        }
    }

    /// Remembers an account URL learned elsewhere (storage), skipping the lookup.
    public func useAccount(url: String) {
        accountURL = url
    }

    private func adopt(_ response: ACMEHTTPResponse, from url: String, created: Bool) throws -> String {
        guard let location = response.header("Location") else {
            throw ACMEError.unexpectedResponse(status: response.status, url: url, detail: "no account Location")
        }
        let account: ACMEAccount = try decode(response, from: url)
        guard account.status == .valid else { throw ACMEError.orderFailed(status: account.status, nil) }
        logger.info(created ? "acme account created" : "acme account found",
                    metadata: ["acme.account": "\(location)"])
        accountURL = location
        return location
    }

    struct NewAccount: Encodable {
        var contact: [String]?
        var termsOfServiceAgreed: Bool?
        var onlyReturnExisting: Bool?
    }

    // MARK: - Decoding

    private func problem(in response: ACMEHTTPResponse) -> ACMEProblem? {
        guard response.mediaType == "application/problem+json" || response.status >= 400 else { return nil }
        if let problem = try? JSONDecoder().decode(ACMEProblem.self, from: Data(response.body)) {
            return problem
        }
        return response.status >= 400
            ? ACMEProblem(type: nil, detail: "HTTP \(response.status)", status: response.status) : nil
    }

    func decode<T: Decodable>(_ response: ACMEHTTPResponse, from url: String) throws -> T {
        if let problem = problem(in: response) { throw ACMEError.problem(problem, url: url) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw ACMEError.unexpectedResponse(status: response.status, url: url,
                                               detail: "not a valid \(T.self): \(error)")
        }
    }
}
