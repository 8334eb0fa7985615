import BerthConfig
import BerthProcess
import Dispatch
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

/// The certificate coordinator (`berth-acme`) as the master sees it: one process per master,
/// started when the configuration has managed hosts, restarted with back-off when it dies,
/// replaced when a reload changes its plan, and stopped with the master. Touched on the
/// master's queue only.
final class CoordinatorProcess: @unchecked Sendable {
    let pid: pid_t
    let control: Int32
    let status: Int32
    let plan: CertificatePlan
    let startedAt = Master.now()
    var isReady = false
    var stopRequested = false

    init(pid: pid_t, control: Int32, status: Int32, plan: CertificatePlan) {
        self.pid = pid
        self.control = control
        self.status = status
        self.plan = plan
    }
}

/// The master's side of managed certificates: the coordinator and what it reported.
struct CertificateState {
    var plan: CertificatePlan?
    var coordinator: CoordinatorProcess?
    /// Deaths in a row, for the restart back-off.
    var failures = 0
    /// Generations waiting for the coordinator's first "ready" before they start.
    var waiting: [() -> Void] = []
    /// Host → notAfter (seconds since the epoch) of the certificate in service.
    var expiry: [String: Double] = [:]
    /// Outcome → ACME orders so far; kept across coordinator restarts.
    var orders: [String: Int] = ["success": 0, "failure": 0]
}

enum CoordinatorBinary {
    static let name = "berth-acme"
    static let path = OwnExecutable.folder + name
}

extension Master {
    /// How long workers wait for the coordinator to put placeholders in place.
    static let coordinatorReadyTimeout: Double = 30

    /// Calls `start` once the managed hosts of `plan` have something to present (the
    /// coordinator reported ready), at once when there are none or the plan is unchanged.
    func prepareCertificates(for plan: ConfigurationPlan, then start: @escaping () -> Void) {
        let wanted = CertificatePlan(config: plan.config)
        guard wanted != self.certificates.plan else {
            start()
            return
        }
        self.stopCoordinator()
        self.certificates.plan = wanted
        self.certificates.expiry = [:]
        self.certificates.failures = 0
        guard wanted != nil else {
            start()
            return
        }
        self.certificates.waiting.append(start)
        self.spawnCoordinator()
        self.queue.asyncAfter(deadline: .now() + Self.coordinatorReadyTimeout) {
            guard !self.certificates.waiting.isEmpty else { return }
            let seconds = Int(Self.coordinatorReadyTimeout)
            self.logger.error("the certificate coordinator was not ready within \(seconds)s; starting workers without its certificates")
            self.releaseWaiting()
        }
    }

    func releaseWaiting() {
        let waiting = self.certificates.waiting
        self.certificates.waiting = []
        for start in waiting where self.stopMode == nil { start() }
    }

    func spawnCoordinator() {
        guard let plan = self.certificates.plan, self.stopMode == nil else { return }
        let launched: WorkerLauncher.Launched
        do {
            launched = try WorkerLauncher.spawn(listeners: [], executable: CoordinatorBinary.path)
        } catch {
            self.logger.error("cannot start the certificate coordinator", metadata: ["error": "\(error)"])
            self.scheduleCoordinatorRestart(plan)
            return
        }
        let coordinator = CoordinatorProcess(pid: launched.pid, control: launched.control, status: launched.status, plan: plan)
        self.certificates.coordinator = coordinator
        do {
            Descriptor.writeAll(launched.control, try plan.line())
        } catch {
            self.logger.error("cannot brief the certificate coordinator", metadata: ["error": "\(error)"])
        }
        self.watch(coordinator)
        self.logger.info("certificate coordinator started", metadata: [
            "acme.pid": "\(coordinator.pid)", "acme.hosts": "\(plan.hosts.count)"])
    }

    /// As for workers (`watch(_ worker:)`): a thread reads its reports and reaps it.
    func watch(_ coordinator: CoordinatorProcess) {
        let (fd, pid) = (coordinator.status, coordinator.pid)
        DetachedThread.start(name: "berth.acme\(pid)") {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending.append(contentsOf: buffer[0..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if let report = CoordinatorReport(line: Substring(line)) {
                        self.queue.async { self.received(report, from: coordinator) }
                    }
                }
            }
            close(fd)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let exit = ExitStatus(waitStatus: status)
            self.queue.async { self.coordinatorExited(coordinator, exit) }
        }
    }

    func received(_ report: CoordinatorReport, from coordinator: CoordinatorProcess) {
        guard coordinator === self.certificates.coordinator else { return }
        switch report {
        case .ready:
            coordinator.isReady = true
            self.releaseWaiting()
        case .certificate(let host, let notAfter):
            self.certificates.expiry[host] = notAfter
        case .order(let outcome):
            self.certificates.orders[outcome, default: 0] += 1
        case .failed(let message):
            self.logger.error("certificate coordinator failed: \(message)")
        }
    }

    func coordinatorExited(_ coordinator: CoordinatorProcess, _ status: ExitStatus) {
        close(coordinator.control)
        guard coordinator === self.certificates.coordinator else { return }
        self.certificates.coordinator = nil
        if coordinator.stopRequested || self.stopMode != nil { return }
        // One that ran a while before dying starts a fresh back-off.
        if Self.now() - coordinator.startedAt > 60 { self.certificates.failures = 0 }
        self.logger.error("certificate coordinator exited (\(status)); restarting it", metadata: ["acme.pid": "\(coordinator.pid)"])
        self.scheduleCoordinatorRestart(coordinator.plan)
        // Workers must not wait on a coordinator that is not there; their managed hosts pick
        // up certificates whenever they appear.
        self.releaseWaiting()
    }

    /// 1 s after the first death, doubling to at most a minute.
    func scheduleCoordinatorRestart(_ plan: CertificatePlan) {
        self.certificates.failures += 1
        let delay = min(pow(2, Double(self.certificates.failures - 1)), 60)
        self.queue.asyncAfter(deadline: .now() + delay) {
            guard self.stopMode == nil, self.certificates.coordinator == nil, self.certificates.plan == plan else { return }
            self.spawnCoordinator()
        }
    }

    func stopCoordinator() {
        guard let coordinator = self.certificates.coordinator else { return }
        coordinator.stopRequested = true
        kill(coordinator.pid, SIGTERM)
        self.certificates.coordinator = nil
    }

    /// `berth_tls_certificate_expiry_timestamp_seconds` and `berth_acme_orders_total`.
    func certificateMetricsText() -> String {
        guard self.certificates.plan != nil else { return "" }
        var out = "# HELP berth_tls_certificate_expiry_timestamp_seconds When the certificate in service for a managed host expires, in seconds since the Unix epoch.\n"
        out += "# TYPE berth_tls_certificate_expiry_timestamp_seconds gauge\n"
        for host in self.certificates.expiry.keys.sorted() {
            out += "berth_tls_certificate_expiry_timestamp_seconds{host=\"\(PrometheusText.escape(host))\"} "
                + PrometheusText.number(self.certificates.expiry[host]!.rounded()) + "\n"
        }
        out += "# HELP berth_acme_orders_total ACME certificate orders, by outcome.\n# TYPE berth_acme_orders_total counter\n"
        for outcome in self.certificates.orders.keys.sorted() {
            out += "berth_acme_orders_total{outcome=\"\(outcome)\"} \(self.certificates.orders[outcome]!)\n"
        }
        return out
    }
}
