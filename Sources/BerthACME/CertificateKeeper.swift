import Foundation
import Logging

/// Keeps one host's certificate in service for as long as it runs: reuses a stored one,
/// obtains what is missing, renews at the time `RenewalSchedule` says (two thirds of the
/// lifetime, or the CA's renewal window), and retries failures with its back-off. The
/// certificate in storage keeps serving until a new one has replaced it there.
public struct CertificateKeeper: Sendable {
    /// Where certificates come from.
    public enum Source: Sendable {
        /// An ACME CA (`tls: auto`).
        case acme(CertificateIssuer)
        /// The local root (`tls: internal`): issued in-process, no order.
        case local(LocalCertificateAuthority)
    }

    /// What happened, for the coordinator's metrics.
    public enum Event: Sendable {
        /// A certificate is in service (found in storage, issued or renewed).
        case inService(StoredCertificate)
        /// An ACME order ended.
        case orderSucceeded
        case orderFailed(ACMEError?)
    }

    public let name: String
    public let names: [String]
    public let storage: CertificateStorage
    /// Where the placeholder for a host without a certificate goes.
    public let placeholders: CertificateStorage
    public let source: Source
    public let policy: RenewalSchedule.Policy
    public let logger: Logger
    public let events: @Sendable (Event) -> Void

    public init(name: String, names: [String], storage: CertificateStorage, placeholders: CertificateStorage,
                source: Source, policy: RenewalSchedule.Policy = .init(), logger: Logger,
                events: @escaping @Sendable (Event) -> Void) {
        self.name = name
        self.names = names
        self.storage = storage
        self.placeholders = placeholders
        self.source = source
        self.policy = policy
        var logger = logger
        logger[metadataKey: "http.host"] = "\(name)"
        self.logger = logger
        self.events = events
    }

    /// The stored certificate when it can serve; else a placeholder is made sure of. Run
    /// before the workers start, so every host has something to present.
    public func prepare(now: Date = Date()) throws -> StoredCertificate? {
        if let stored = try? storage.certificate(name: name), stored.isUsable(for: names, at: now) {
            return stored
        }
        if try PlaceholderCertificate.ensure(in: placeholders, name: name, names: names, now: now) {
            logger.notice("placeholder certificate written; it serves until the first certificate is issued")
        }
        return nil
    }

    /// Runs until the task is cancelled.
    public func run(startingWith stored: StoredCertificate?) async {
        var schedule = RenewalSchedule(policy: policy)
        var current = stored
        if let stored {
            schedule.installed(notBefore: stored.notBefore, notAfter: stored.notAfter, at: Date())
            logger.info("stored certificate reused", metadata: ["tls.not_after": "\(stored.notAfter)"])
            events(.inService(stored))
        }
        if case .acme(let issuer) = source {
            // RFC 9773: only a CA whose directory names `renewalInfo` is asked.
            schedule.renewalInfoSupported = ((try? await issuer.client.directory())?.renewalInfo) != nil
            if schedule.renewalInfoSupported, let current {
                schedule.installed(notBefore: current.notBefore, notAfter: current.notAfter, at: Date())
            }
        }
        while !Task.isCancelled {
            let now = Date()
            switch schedule.nextAction(at: now) {
            case .order:
                do {
                    let certificate = try await obtain(renewing: current != nil)
                    current = certificate
                    schedule.installed(notBefore: certificate.notBefore, notAfter: certificate.notAfter, at: Date())
                    events(.inService(certificate))
                } catch {
                    if Task.isCancelled { return }
                    schedule.orderFailed(at: Date())
                    let retry = schedule.backoff(afterFailures: schedule.failuresInARow)
                    logger.error("certificate order failed; retrying in \(Int(retry.components.seconds))s", metadata: [
                        "error": "\(error)", "acme.failures_in_a_row": "\(schedule.failuresInARow)",
                    ])
                    if case .acme = source { events(.orderFailed(error as? ACMEError)) }
                    if current == nil { try? PlaceholderCertificate.ensure(in: placeholders, name: name, names: names) }
                }
            case .checkRenewalInfo:
                await checkRenewalInfo(&schedule, current: current)
            case .wait(let until):
                // Woken at least hourly: a clock step (suspend, NTP) is noticed within the hour.
                let seconds = min(max(until.timeIntervalSince(now), 0.05), 3600)
                do { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) } catch { return }
            }
        }
    }

    private func obtain(renewing: Bool) async throws -> StoredCertificate {
        switch source {
        case .acme(let issuer):
            logger.info(renewing ? "certificate renewal due; ordering" : "no certificate yet; ordering",
                        metadata: ["acme.names": "\(names.joined(separator: ","))"])
            let certificate = try await issuer.issue(for: names, storageName: name)
            events(.orderSucceeded)
            logger.notice(renewing ? "certificate renewed" : "certificate issued",
                          metadata: ["tls.not_after": "\(certificate.notAfter)"])
            return certificate
        case .local(let authority):
            let certificate = try authority.issue(for: names)
            try storage.save(certificate, name: name)
            logger.notice(renewing ? "certificate renewed by the local CA" : "certificate issued by the local CA",
                          metadata: ["tls.not_after": "\(certificate.notAfter)"])
            return certificate
        }
    }

    private func checkRenewalInfo(_ schedule: inout RenewalSchedule, current: StoredCertificate?) async {
        guard case .acme(let issuer) = source, let current,
              let id = RenewalInfo.certificateID(of: current.leaf)
        else {
            schedule.renewalInfoSupported = false
            return
        }
        do {
            guard let info = try await issuer.client.renewalInfo(certificateID: id) else {
                schedule.renewalInfoSupported = false
                return
            }
            schedule.received(info, randomFraction: Double.random(in: 0..<1), at: Date())
            if let explanation = info.explanationURL {
                logger.warning("the CA asks for an early renewal", metadata: [
                    "acme.window_start": "\(info.windowStart)", "acme.explanation": "\(explanation)"])
            }
        } catch {
            schedule.renewalInfoFailed(at: Date())
            logger.info("renewal information unavailable", metadata: ["error": "\(error)"])
        }
    }
}
