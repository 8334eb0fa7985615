import Crypto
import Foundation
import Logging

/// Getting a certificate for a set of names from start to end (RFC 8555 §7.1 "overview"):
/// account, order, one challenge per authorization, finalize, download, store.
public struct CertificateIssuer: Sendable {
    public let client: ACMEClient
    public let storage: CertificateStorage
    /// `mailto:` URLs (§7.3); may be empty.
    public let contact: [String]
    /// Challenge types in the order the user prefers them.
    public let preferences: [ACMEChallengeType]
    public let responder: any ChallengeResponder
    public let logger: Logger
    /// How long the CA may take to validate one name, and to issue.
    public var validationDeadline: Duration = .seconds(120)
    public var issuanceDeadline: Duration = .seconds(120)

    public init(client: ACMEClient, storage: CertificateStorage, contact: [String],
                preferences: [ACMEChallengeType], responder: any ChallengeResponder, logger: Logger) {
        self.client = client
        self.storage = storage
        self.contact = contact
        self.preferences = preferences
        self.responder = responder
        self.logger = logger
    }

    /// An issuer for a CA directory, with the account key from `storage` (created there on
    /// first use) and an HTTPS client trusting `trust`.
    public static func make(directoryURL: String, trust: HTTPSClient.Trust, storage: CertificateStorage,
                            email: String?, preferences: [ACMEChallengeType],
                            responder: any ChallengeResponder, logger: Logger) throws -> CertificateIssuer {
        let key = try storage.accountKey(directoryURL: directoryURL)
        let client = ACMEClient(directoryURL: directoryURL, accountKey: key,
                                transport: try HTTPSClient(trust: trust), logger: logger)
        return CertificateIssuer(client: client, storage: storage, contact: email.map { ["mailto:\($0)"] } ?? [],
                                 preferences: preferences, responder: responder, logger: logger)
    }

    public enum Outcome: Sendable {
        /// Storage held a certificate covering the names and still valid: no order was placed.
        case reused(StoredCertificate)
        case issued(StoredCertificate)

        public var certificate: StoredCertificate {
            switch self {
            case .reused(let certificate), .issued(let certificate): return certificate
            }
        }
    }

    /// The stored certificate when it is usable, else a new one. `storageName` is the host's
    /// primary name; `names` are all the names the certificate must cover.
    public func certificate(for names: [String], storageName: String? = nil,
                            now: Date = Date()) async throws -> Outcome {
        let storageName = storageName ?? names[0]
        if let stored = try storage.certificate(name: storageName), stored.isUsable(for: names, at: now) {
            return .reused(stored)
        }
        return .issued(try await issue(for: names, storageName: storageName))
    }

    /// The account bound to the stored key: found again by key, never duplicated (§7.3.1).
    @discardableResult
    public func account() async throws -> String {
        let url = try await client.account(contact: contact)
        let directoryURL = client.directoryURL
        if try storage.accountURL(directoryURL: directoryURL) != url {
            try storage.saveAccountURL(url, directoryURL: directoryURL)
        }
        return url
    }

    /// Orders, validates and downloads a certificate for `names`, and stores it.
    public func issue(for names: [String], storageName: String? = nil) async throws -> StoredCertificate {
        let storageName = storageName ?? names[0]
        try await account()
        let (orderURL, placed) = try await client.newOrder(names: names)
        let metadata: Logger.Metadata = ["acme.order": "\(orderURL)", "acme.names": "\(names.joined(separator: ","))"]
        logger.info("acme order placed", metadata: metadata)
        for authorizationURL in placed.authorizations {
            try await authorize(authorizationURL)
        }
        var order = placed
        if order.status == .pending {
            order = try await client.order(orderURL)
        }
        guard order.status == .ready || order.status == .valid else {
            throw ACMEError.orderFailed(status: order.status, order.error)
        }
        let key = P256.Signing.PrivateKey()
        if order.status == .ready {
            let csr = try CertificateRequest.der(names: names, key: key)
            order = try await client.finalize(order, url: orderURL, csrDER: csr, deadline: issuanceDeadline)
        }
        guard order.status == .valid, let certificateURL = order.certificate else {
            throw ACMEError.orderFailed(status: order.status, order.error)
        }
        let chain = try await client.downloadCertificate(certificateURL)
        let certificate: StoredCertificate
        do {
            certificate = try StoredCertificate(chainPEM: chain, keyPEM: key.pemRepresentation)
        } catch {
            throw ACMEError.badCertificate("\(error)")
        }
        guard certificate.covers(names) else {
            throw ACMEError.badCertificate("it covers \(certificate.names), not \(names)")
        }
        try storage.save(certificate, name: storageName)
        logger.info("acme certificate issued", metadata: metadata.merging([
            "tls.not_after": "\(certificate.notAfter)"]) { $1 })
        return certificate
    }

    /// One authorization (§7.5): pick a challenge, publish its answer, tell the CA, wait.
    private func authorize(_ url: String) async throws {
        let authorization = try await client.authorization(url)
        let name = authorization.identifier.value
        guard authorization.status == .pending else {
            guard authorization.status == .valid else {
                throw ACMEError.orderFailed(status: authorization.status, authorization.challenges.compactMap(\.error).first)
            }
            return  // validated earlier for this account (authorization reuse)
        }
        let usable = preferences.filter(responder.supportedChallenges.contains)
        guard let (type, challenge) = usable.lazy.compactMap({ type in
            authorization.challenges.first { $0.type == type.rawValue && $0.token != nil }.map { (type, $0) }
        }).first, let token = challenge.token else {
            throw ACMEError.noUsableChallenge(name: name, offered: authorization.challenges.map(\.type))
        }
        let keyAuthorization = client.accountKey.keyAuthorization(token: token)
        let answer: ChallengeAnswer
        switch type {
        case .http01:
            answer = .http01(name: name, token: token, keyAuthorization: keyAuthorization)
        case .tlsALPN01:
            answer = .tlsALPN01(try TLSALPNChallengeCertificate(name: name, keyAuthorization: keyAuthorization))
        }
        try await responder.publish(answer)
        let validated: ACMEAuthorization
        do {
            logger.info("acme challenge answered", metadata: ["acme.name": "\(name)", "acme.challenge": "\(type.rawValue)"])
            try await client.respond(to: challenge)
            validated = try await client.waitForAuthorization(url, deadline: validationDeadline)
        } catch {
            await responder.withdraw(answer)
            throw error
        }
        await responder.withdraw(answer)
        guard validated.status == .valid else {
            let problem = validated.challenges.first { $0.type == type.rawValue }?.error
            throw ACMEError.challengeFailed(name: name, type: type, problem)
        }
    }
}
