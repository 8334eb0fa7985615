import BerthACME
import BerthConfig
import BerthProcess
import Foundation
import Logging

/// One `CertificateKeeper` per managed host, sharing one ACME account and one local CA.
enum Coordinator {
    /// Runs until the process is stopped; the exit status when it cannot start.
    static func run(_ plan: CertificatePlan, status: ReportChannel, logger: Logger) async -> Int32 {
        let keepers: [(CertificateKeeper, StoredCertificate?)]
        do {
            keepers = try prepare(plan, status: status, logger: logger)
        } catch {
            logger.critical("certificate coordinator cannot start", metadata: ["error": "\(error)"])
            status.send(.failed("\(error)"))
            return 1
        }
        // Every host has a certificate or a placeholder on disk: workers may start.
        status.send(.ready)
        await withTaskGroup(of: Void.self) { group in
            for (keeper, stored) in keepers {
                group.addTask { await keeper.run(startingWith: stored) }
            }
        }
        return 0
    }

    static func prepare(_ plan: CertificatePlan, status: ReportChannel,
                        logger: Logger) throws -> [(CertificateKeeper, StoredCertificate?)] {
        let layout = ManagedTLSLayout(storage: plan.storage)
        let owner = plan.workerUID.map { (uid: uid_t($0), gid: gid_t(plan.workerGID ?? $0)) }
        // 0755 before anything below it exists: the workers, maybe another account, must reach
        // the certificates, placeholders and challenge answers (keys stay 0600, owned by them).
        try AtomicFile.makeFolder(plan.storage, mode: 0o755)
        try AtomicFile.makeFolder(layout.http01Folder, mode: 0o755)
        HTTP01ChallengeFolder(folder: layout.http01Folder).removeStaleAnswers()
        let placeholders = CertificateStorage(root: layout.placeholderRoot, owner: owner)
        let policy = retryPolicy()
        let events: @Sendable (String, CertificateKeeper.Event) -> Void = { host, event in
            switch event {
            case .inService(let certificate):
                status.send(.certificate(host: host, notAfter: certificate.notAfter.timeIntervalSince1970))
            case .orderSucceeded:
                status.send(.order(outcome: "success"))
            case .orderFailed:
                status.send(.order(outcome: "failure"))
            }
        }

        var acmeSource: CertificateKeeper.Source?
        if plan.hosts.contains(where: { $0.issuer == .acme }) {
            guard let acme = plan.acme else { throw CLIError("'tls: auto' hosts but no 'acme:' block") }
            let responder = HTTP01ChallengeFolder(folder: layout.http01Folder)
            // TLS-ALPN-01 is never answered (see ManagedTLSCheck); the CA is offered HTTP-01.
            let preferences = acme.challenges.compactMap { ACMEChallengeType(rawValue: $0.rawValue) }
                .filter { $0 == .http01 && plan.answersHTTP01 }
            let issuer = try CertificateIssuer.make(
                directoryURL: acme.directory, trust: acme.directoryCA.map { .caFile($0) } ?? .system,
                storage: CertificateStorage(root: layout.storageRoot(for: .acme), owner: owner),
                email: acme.email, preferences: preferences, responder: responder, logger: logger)
            acmeSource = .acme(issuer)
            logger.info("acme certificates from \(acme.directory)", metadata: [
                "acme.storage": "\(plan.storage)", "acme.challenges": "\(preferences.map(\.rawValue).joined(separator: ","))"])
        }
        var localSource: CertificateKeeper.Source?
        if plan.hosts.contains(where: { $0.issuer == .local }) {
            let authority = try LocalCertificateAuthority.loadOrCreate(in: CertificateStorage(root: plan.storage, owner: owner))
            localSource = .local(authority)
            logger.info("local CA ready; trust its root to avoid browser warnings ('berth ca path' prints it)",
                        metadata: ["tls.root": "\(authority.rootCertificatePath)"])
        }

        return try plan.hosts.map { host in
            let source = host.issuer == .acme ? acmeSource! : localSource!
            let keeper = CertificateKeeper(
                name: host.name, names: host.names,
                storage: CertificateStorage(root: layout.storageRoot(for: host.issuer), owner: owner),
                placeholders: placeholders, source: source, policy: policy, logger: logger,
                events: { events(host.name, $0) })
            return (keeper, try keeper.prepare())
        }
    }

    /// The renewal policy; `BERTH_ACME_RETRY_SECONDS` shortens the first retry after a failed
    /// order (default 60 s, doubling up to 6 h), for tests and for watching a fix take effect.
    static func retryPolicy() -> RenewalSchedule.Policy {
        var policy = RenewalSchedule.Policy()
        if let text = ProcessInfo.processInfo.environment["BERTH_ACME_RETRY_SECONDS"], let seconds = Int(text), seconds > 0 {
            policy.firstRetry = .seconds(seconds)
        }
        return policy
    }
}
