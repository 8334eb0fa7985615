import BerthConfig
import Dispatch
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

/// The supervisor: binds the listeners, starts a generation of workers for a configuration,
/// replaces workers that die, swaps generations on reload and stops them in order.
///
/// It loads no app code and answers no site request, so nothing a request does can take it
/// down. All of its state lives on one serial queue; signals, worker reports and exits, and
/// admin requests are all events on that queue. (Members are internal so that
/// `MasterReloads.swift` and `MasterAdmin.swift` can reach them; touch them on `queue` only.)
final class Master: @unchecked Sendable {
    enum StopMode { case graceful, immediate }

    /// How long a new generation may take to report ready (apps may do work at start).
    static let readyTimeout: Double = 120
    /// Extra time a draining worker gets beyond the drain timeout before it is killed.
    static let killGrace: Double = 5
    /// How long a worker waits for clients to answer the close frames it sends its WebSockets
    /// when `websocket_drain` passes.
    static let webSocketCloseReply: Double = 5
    /// How long a reload waits for the old workers to say they stopped accepting.
    static let handoverTimeout: Double = 5

    /// The drain timeout a generation's workers were given.
    func drainSeconds(_ generation: Generation) -> Double {
        Self.seconds(self.drainTimeoutOverride ?? generation.plan.config.drainTimeout)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    let queue = DispatchQueue(label: "berth.master")
    let configFile: String
    /// `berth run` or `berth dev`.
    let mode: ServingMode
    /// `berth dev`'s watch on the files (`MasterDevLoop.swift`); nil under `berth run`.
    var devLoop: DevLoop?
    /// `--drain-timeout`, which wins over the file's `drain_timeout`.
    let drainTimeoutOverride: Duration?
    let logger: Logger
    let sink: ErrorLogSink

    /// The generation serving traffic.
    var current: Generation?
    /// A generation being started by a reload (or the first start).
    var starting: Generation?
    /// Older generations draining, and failed ones whose workers are still exiting.
    var leaving: [Generation] = []
    /// The sockets of the current generation; a reload reuses them.
    var sockets: [ListeningSocket] = []
    var generations = 0
    var stopMode: StopMode?
    var exitCode: Int32 = 0
    var reloading = false
    var reloadAgain = false
    var pidFile: PidFile?
    var admin: (config: AdminConfig, server: AdminServer)?
    var metrics = MasterMetrics()
    var signalSources: [DispatchSourceSignal] = []
    var finished: CheckedContinuation<Int32, Never>?
    /// A reload whose new generation serves while the old one has yet to stop accepting.
    var handover: Handover?
    /// The certificate coordinator and its reports (`MasterCertificates.swift`).
    var certificates = CertificateState()

    struct Handover {
        let previous: Generation
        let metadata: Logger.Metadata
    }

    init(configFile: String, mode: ServingMode = .run, drainTimeoutOverride: Duration?, logger: Logger, sink: ErrorLogSink) {
        self.configFile = configFile
        self.mode = mode
        self.drainTimeoutOverride = drainTimeoutOverride
        self.logger = logger
        self.sink = sink
    }

    /// Serves `plan` until stopped; returns the exit status.
    func run(_ plan: ConfigurationPlan) async -> Int32 {
        await withCheckedContinuation { continuation in
            self.queue.async {
                self.finished = continuation
                self.start(plan)
            }
        }
    }

    // MARK: - Start

    func start(_ plan: ConfigurationPlan) {
        let config = plan.config
        do {
            if let path = config.pidFilePath { self.pidFile = try PidFile.claim(path) }
            let assignment = try ListenerAssignment.assign(config.listeners, reusing: [])
            if let runAs = config.runAs { try Privileges.prepareLogFiles(config, for: runAs) }
            try self.updateAdmin(config.admin)
            self.installSignalHandlers()
            if self.mode == .dev { try self.startDevLoop(plan) }
            let generation = self.makeGeneration(plan, assignment: assignment)
            self.starting = generation
            self.prepareCertificates(for: plan) { self.launch(generation) }
        } catch {
            self.failStart("\(error)")
        }
    }

    /// The first generation could not be put into service: say why, stop what started, exit 1.
    func failStart(_ message: String) {
        self.logger.critical("cannot start: \(message)")
        StandardError.write("berth: \(message)\n")
        self.stop(.immediate, exitCode: 1)
    }

    func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        func watch(_ signo: Int32, _ handler: @escaping () -> Void) {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: self.queue)
            source.setEventHandler(handler: handler)
            source.resume()
            self.signalSources.append(source)
        }
        watch(SIGTERM) { self.stop(.graceful) }
        watch(SIGINT) { self.stop(.graceful) }
        watch(SIGQUIT) { self.stop(.immediate) }
        watch(SIGHUP) { self.reload() }
        watch(SIGUSR1) { self.reopenLogs() }
    }

    // MARK: - Generations

    func makeGeneration(_ plan: ConfigurationPlan, assignment: ListenerAssignment) -> Generation {
        self.generations += 1
        return Generation(number: self.generations, plan: plan, sockets: assignment.sockets, fresh: assignment.fresh)
    }

    func launch(_ generation: Generation) {
        for slot in generation.slots.indices where generation.state == .starting { self.spawn(generation, slot: slot) }
        self.queue.asyncAfter(deadline: .now() + Self.readyTimeout) { [weak generation] in
            guard let generation, generation.state == .starting else { return }
            self.fail(generation, reason: "its workers were not ready within \(Int(Self.readyTimeout))s")
        }
    }

    func spawn(_ generation: Generation, slot: Int) {
        let launched: WorkerLauncher.Launched
        do {
            launched = try WorkerLauncher.spawn(listeners: generation.sockets.map(\.fd))
        } catch {
            self.logger.error("\(error)")
            if generation.state == .starting {
                self.fail(generation, reason: "\(error)")
            } else {
                self.scheduleReplacement(generation, slot: slot, delay: 1)
            }
            return
        }
        let worker = Worker(pid: launched.pid, slot: slot, generation: generation, control: launched.control, status: launched.status)
        generation.slots[slot] = worker
        let plan = generation.plan
        let brief = WorkerBrief(
            generation: generation.number, slot: slot, configFile: plan.file, config: plan.config,
            appLibraries: plan.appLibraries, unbuiltApps: plan.unbuiltApps, drainTimeoutSeconds: self.drainSeconds(generation), reportsMetrics: plan.config.admin != nil)
        do {
            // A worker that died first makes this fail with EPIPE; its exit is handled below.
            Descriptor.writeAll(launched.control, try brief.line())
        } catch {
            self.logger.error("cannot brief a worker", metadata: ["error": "\(error)"])
        }
        self.watch(worker)
        self.logger.info("worker started", metadata: worker.metadata)
    }

    /// A thread per worker reads its reports and, at end of file (the worker's status
    /// descriptor closes only when it exits), reaps it. Plain blocking reads rather than
    /// Dispatch read sources: descriptor numbers are reused quickly as generations come and
    /// go, which Dispatch sources on Linux do not survive reliably.
    func watch(_ worker: Worker) {
        let fd = worker.status
        let pid = worker.pid
        DetachedThread.start(name: "berth.w\(pid)") {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending.append(contentsOf: buffer[0..<count])
                var reports: [WorkerReport] = []
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    if let report = WorkerReport(line: Substring(String(decoding: pending[..<newline], as: UTF8.self))) {
                        reports.append(report)
                    }
                    pending.removeSubrange(...newline)
                }
                if !reports.isEmpty {
                    let batch = ReportBatch(reports)
                    self.queue.async { for report in batch.reports { self.received(report, from: worker) } }
                }
            }
            close(fd)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let exit = ExitStatus(waitStatus: status)
            self.queue.async { self.exited(worker, exit) }
        }
    }

    func received(_ report: WorkerReport, from worker: Worker) {
        switch report {
        case .ready:
            worker.isReady = true
            let generation = worker.generation
            generation.startFailures[worker.slot] = 0
            self.logger.info("worker ready", metadata: worker.metadata)
            if generation.state == .starting && generation.slots.allSatisfy({ $0?.isReady == true }) {
                self.serve(generation)
            }
        case .failed(let message):
            worker.failure = message
        case .draining:
            worker.stoppedAccepting = true
            self.completeReloadIfDrained()
        case .metrics(let metrics):
            worker.report = metrics
        }
    }

    func exited(_ worker: Worker, _ status: ExitStatus) {
        worker.hasExited = true
        close(worker.control)
        if let report = worker.report { self.metrics.retired.merge(report.requests) }
        let generation = worker.generation
        if generation.slots[worker.slot] === worker { generation.slots[worker.slot] = nil }
        var metadata = worker.metadata
        metadata["worker.exit"] = "\(status)"

        if self.stopMode != nil || worker.stopRequested {
            if status == .exited(0) || self.stopMode == .immediate {
                self.logger.info("worker exited", metadata: metadata)
            } else {
                self.logger.warning("worker exited while stopping", metadata: metadata)
            }
            self.forgetIfEmpty(generation)
            self.completeReloadIfDrained()
            if self.stopMode != nil && self.liveWorkers.isEmpty { self.finish() }
            return
        }
        switch generation.state {
        case .starting:
            let reason = worker.failure ?? "a worker \(status == .exited(0) ? "exited" : "died (\(status))") before it was ready"
            self.fail(generation, reason: reason)
        case .serving:
            self.replace(worker, status: status, metadata: metadata)
        case .leaving, .failed:
            self.logger.info("worker exited", metadata: metadata)
            self.forgetIfEmpty(generation)
        }
    }

    /// A worker of the serving generation ended without being asked to: start another at
    /// once, or after a pause when this slot keeps failing, so a broken start cannot spin.
    func replace(_ worker: Worker, status: ExitStatus, metadata: Logger.Metadata) {
        let generation = worker.generation
        let slot = worker.slot
        var metadata = metadata
        if let failure = worker.failure { metadata["error"] = "\(failure)" }
        let delay: Double
        if worker.isReady {
            let now = Self.now()
            generation.deaths[slot] = generation.deaths[slot].filter { now - $0 < 10 } + [now]
            let recent = generation.deaths[slot].count
            // A worker killed by a request is replaced at once; only a storm (more than one
            // death a second, sustained) is slowed, so a crash loop cannot eat the machine.
            delay = recent > 10 ? 0.5 : 0
            metadata["worker.deaths_in_10s"] = "\(recent)"
            // Exit status 0 means someone else stopped it (a signal sent to it directly).
            let what = status == .exited(0) ? "worker exited without being asked to" : "worker died"
            self.logger.error(
                "\(what); starting a replacement \(delay == 0 ? "now" : "in 0.5s, as it keeps dying")", metadata: metadata)
        } else {
            generation.startFailures[slot] += 1
            let failures = generation.startFailures[slot]
            delay = min(0.1 * pow(2, Double(failures - 1)), 10)
            metadata["worker.failed_starts"] = "\(failures)"
            self.logger.error("worker failed before it was ready; retrying in \(PrometheusText.number((delay * 10).rounded() / 10))s", metadata: metadata)
        }
        self.scheduleReplacement(generation, slot: slot, delay: delay)
    }

    func scheduleReplacement(_ generation: Generation, slot: Int, delay: Double) {
        let respawn: @Sendable () -> Void = {
            guard self.stopMode == nil, generation.state == .serving, generation.slots[slot] == nil else { return }
            self.metrics.workerRestarts += 1
            self.spawn(generation, slot: slot)
        }
        if delay <= 0 { respawn() } else { self.queue.asyncAfter(deadline: .now() + delay, execute: respawn) }
    }

    // MARK: - Logs and stopping

    func reopenLogs() {
        self.logger.notice("reopening log files")
        do { try self.sink.reopen() } catch { self.logger.error("cannot reopen error log", metadata: ["error": "\(error)"]) }
        for worker in self.liveWorkers { kill(worker.pid, SIGUSR1) }
        if let coordinator = self.certificates.coordinator { kill(coordinator.pid, SIGUSR1) }
    }

    func stop(_ mode: StopMode, exitCode: Int32 = 0) {
        if let current = self.stopMode {
            if mode == .immediate && current == .graceful {
                self.stopMode = .immediate
                for worker in self.liveWorkers { kill(worker.pid, SIGQUIT) }
            }
            return
        }
        self.stopMode = mode
        self.exitCode = exitCode
        let workers = self.liveWorkers
        if exitCode == 0 {
            let open = workers.reduce(0) { $0 + ($1.report?.openConnections ?? 0) }
            self.logger.notice(mode == .graceful ? "stopping" : "stopping now", metadata: [
                "server.workers": "\(workers.count)", "server.open_connections": "\(open)",
            ])
        }
        self.admin?.server.stop()
        self.admin = nil
        self.stopCoordinator()
        self.certificates.waiting = []
        // SIGINT, not SIGTERM (a reload's): a stop gives WebSockets the drain timeout only.
        for worker in workers {
            worker.stopRequested = true
            kill(worker.pid, mode == .graceful ? SIGINT : SIGQUIT)
        }
        let drain = self.current.map(self.drainSeconds) ?? self.drainTimeoutOverride.map(Self.seconds) ?? 10
        self.killLater(workers, after: (mode == .graceful ? drain : 0) + Self.killGrace)
        if workers.isEmpty { self.finish() }
    }

    func finish() {
        guard let finished = self.finished else { return }
        self.finished = nil
        for socket in self.sockets { socket.close() }
        self.sockets = []
        self.pidFile?.remove()
        for source in self.signalSources { source.cancel() }
        if self.exitCode == 0 { self.logger.notice("stopped") }
        finished.resume(returning: self.exitCode)
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
