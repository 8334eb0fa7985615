import BerthConfig
import BerthServer
import Dispatch
import Foundation
import Logging

/// The supervisor: binds the listeners, starts a generation of workers for a configuration,
/// replaces workers that die, swaps generations on reload and stops them in order.
///
/// It loads no app code and answers no site request, so nothing a request does can take it
/// down. All of its state lives on one serial queue; signals, worker reports and exits, and
/// admin requests are all events on that queue.
final class Master: @unchecked Sendable {
    enum StopMode { case graceful, immediate }

    /// How long a new generation may take to report ready (apps may do work at start).
    static let readyTimeout: Double = 120
    /// Extra time a draining worker gets beyond the drain timeout before it is killed.
    static let killGrace: Double = 5
    /// How long a reload waits for the old workers to say they stopped accepting.
    static let handoverTimeout: Double = 5

    private let queue = DispatchQueue(label: "berth.master")
    private let configFile: String
    private let drainTimeout: Int
    private let logger: Logger
    private let sink: ErrorLogSink

    /// The generation serving traffic.
    private var current: Generation?
    /// A generation being started by a reload (or the first start).
    private var starting: Generation?
    /// Older generations draining, and failed ones whose workers are still exiting.
    private var leaving: [Generation] = []
    /// The sockets of the current generation; a reload reuses them.
    private var sockets: [ListeningSocket] = []
    private var generations = 0
    private var stopMode: StopMode?
    private var exitCode: Int32 = 0
    private var reloading = false
    private var reloadAgain = false
    private var pidFile: PidFile?
    private var admin: (config: AdminConfig, server: AdminServer)?
    private var metrics = MasterMetrics()
    private var signalSources: [DispatchSourceSignal] = []
    private var finished: CheckedContinuation<Int32, Never>?
    /// A reload whose new generation serves while the old one has yet to stop accepting.
    private var handover: Handover?

    private struct Handover {
        let previous: Generation
        let metadata: Logger.Metadata
    }

    init(configFile: String, drainTimeout: Int, logger: Logger, sink: ErrorLogSink) {
        self.configFile = configFile
        self.drainTimeout = drainTimeout
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

    private func start(_ plan: ConfigurationPlan) {
        let config = plan.config
        do {
            if let path = config.pidFilePath { self.pidFile = try PidFile.claim(path) }
            let assignment = try ListenerAssignment.assign(config.listeners, reusing: [])
            if let runAs = config.runAs { try Privileges.prepareLogFiles(config, for: runAs) }
            try self.updateAdmin(config.admin)
            self.installSignalHandlers()
            let generation = self.makeGeneration(plan, assignment: assignment)
            self.starting = generation
            self.launch(generation)
        } catch {
            self.failStart("\(error)")
        }
    }

    /// The first generation could not be put into service: say why, stop what started, exit 1.
    private func failStart(_ message: String) {
        self.logger.critical("cannot start: \(message)")
        FileHandle.standardError.write(Data("berth: \(message)\n".utf8))
        self.stop(.immediate, exitCode: 1)
    }

    private func installSignalHandlers() {
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

    private func makeGeneration(_ plan: ConfigurationPlan, assignment: ListenerAssignment) -> Generation {
        self.generations += 1
        return Generation(number: self.generations, plan: plan, sockets: assignment.sockets, fresh: assignment.fresh)
    }

    private func launch(_ generation: Generation) {
        for slot in generation.slots.indices where generation.state == .starting { self.spawn(generation, slot: slot) }
        self.queue.asyncAfter(deadline: .now() + Self.readyTimeout) { [weak generation] in
            guard let generation, generation.state == .starting else { return }
            self.fail(generation, reason: "its workers were not ready within \(Int(Self.readyTimeout))s")
        }
    }

    private func spawn(_ generation: Generation, slot: Int) {
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
            generation: generation.number, slot: slot, configFile: plan.file, configText: plan.text,
            appLibraries: plan.appLibraries, drainTimeoutSeconds: self.drainTimeout, reportsMetrics: plan.config.admin != nil)
        if let json = try? JSONEncoder().encode(brief) {
            // A worker that died first makes this fail with EPIPE; its exit is handled below.
            Descriptor.writeAll(launched.control, Array(json) + [UInt8(ascii: "\n")])
        }
        self.watch(worker)
        self.logger.info("worker started", metadata: worker.metadata)
    }

    /// A thread per worker reads its reports and, at end of file (the worker's status
    /// descriptor closes only when it exits), reaps it. Plain blocking reads rather than
    /// Dispatch read sources: descriptor numbers are reused quickly as generations come and
    /// go, which Dispatch sources on Linux do not survive reliably.
    private func watch(_ worker: Worker) {
        let fd = worker.status
        let pid = worker.pid
        let thread = Thread {
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
        thread.name = "berth.worker-\(pid)"
        thread.start()
    }

    private func received(_ report: WorkerReport, from worker: Worker) {
        switch report {
        case .ready:
            worker.isReady = true
            worker.readyAt = Self.now()
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

    private func exited(_ worker: Worker, _ status: ExitStatus) {
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
    private func replace(_ worker: Worker, status: ExitStatus, metadata: Logger.Metadata) {
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
            self.logger.error(
                delay == 0 ? "worker died; starting a replacement now" : "worker died again; starting a replacement in 0.5s",
                metadata: metadata)
        } else {
            generation.startFailures[slot] += 1
            let failures = generation.startFailures[slot]
            delay = min(0.1 * pow(2, Double(failures - 1)), 10)
            metadata["worker.failed_starts"] = "\(failures)"
            self.logger.error("worker failed before it was ready; retrying in \(PrometheusText.number((delay * 10).rounded() / 10))s", metadata: metadata)
        }
        self.scheduleReplacement(generation, slot: slot, delay: delay)
    }

    private func scheduleReplacement(_ generation: Generation, slot: Int, delay: Double) {
        let respawn: @Sendable () -> Void = {
            guard self.stopMode == nil, generation.state == .serving, generation.slots[slot] == nil else { return }
            self.metrics.workerRestarts += 1
            self.spawn(generation, slot: slot)
        }
        if delay <= 0 { respawn() } else { self.queue.asyncAfter(deadline: .now() + delay, execute: respawn) }
    }

    /// Every worker of `generation` reported ready: it takes over.
    private func serve(_ generation: Generation) {
        generation.state = .serving
        self.starting = nil
        let previous = self.current
        self.current = generation
        // Sockets the new configuration dropped: the old workers keep their own copies while
        // they drain, and the last copy closes with them.
        for socket in self.sockets where !generation.sockets.contains(where: { $0 === socket }) { socket.close() }
        self.sockets = generation.sockets
        let config = generation.plan.config
        let listeners = zip(config.listeners, generation.sockets).map { listener, socket in
            let scheme = listener.tls ? "https" : "http"
            return socket.address.contains(":") ? "\(scheme)://[\(socket.address)]:\(socket.port)" : "\(scheme)://\(socket.address):\(socket.port)"
        }.joined(separator: " ")
        var metadata: Logger.Metadata = [
            "server.listeners": "\(listeners)",
            "server.hosts": "\(config.hosts.count)",
            "server.pid": "\(getpid())",
            "server.workers": "\(config.workers)",
            "config.generation": "\(generation.number)",
        ]
        guard let previous else {
            self.logger.notice("listening", metadata: metadata)
            return
        }
        if previous.plan.config.logs.error != config.logs.error {
            do { try self.sink.retarget(config.logs.error) } catch { self.logger.error("cannot switch the error log: \(error)") }
        }
        self.retire(previous)
        metadata["config.previous_generation"] = "\(previous.number)"
        // The reload is done once the old workers stopped accepting: from then on every new
        // connection reaches the new configuration.
        self.handover = Handover(previous: previous, metadata: metadata)
        self.completeReloadIfDrained()
        self.queue.asyncAfter(deadline: .now() + Self.handoverTimeout) { [weak previous] in
            guard let handover = self.handover, handover.previous === previous else { return }
            self.logger.warning("old workers did not confirm they stopped accepting; reload considered done")
            self.completeReload()
        }
    }

    private func completeReloadIfDrained() {
        guard let handover = self.handover, handover.previous.liveWorkers.allSatisfy(\.stoppedAccepting) else { return }
        self.completeReload()
    }

    private func completeReload() {
        guard let handover = self.handover else { return }
        self.handover = nil
        self.logger.notice("reloaded", metadata: handover.metadata)
        self.metrics.reloaded(succeeded: true)
        self.reloadFinished()
    }

    /// Tells every worker of `generation` to stop accepting, finish its in-flight responses
    /// and exit; kills those still there after the drain timeout and a grace period.
    private func retire(_ generation: Generation) {
        generation.state = .leaving
        self.leaving.append(generation)
        for worker in generation.liveWorkers {
            worker.stopRequested = true
            kill(worker.pid, SIGTERM)
        }
        self.killLater(generation.liveWorkers, after: Double(self.drainTimeout) + Self.killGrace)
        self.forgetIfEmpty(generation)
    }

    private func killLater(_ workers: [Worker], after seconds: Double) {
        let workers = workers.map { WeakWorker($0) }
        self.queue.asyncAfter(deadline: .now() + seconds) {
            for worker in workers.compactMap(\.worker) where !worker.hasExited {
                self.logger.warning("worker did not exit in time; killing it", metadata: worker.metadata)
                kill(worker.pid, SIGKILL)
            }
        }
    }

    /// A generation that was starting could not be put into service.
    private func fail(_ generation: Generation, reason: String) {
        guard generation.state == .starting else { return }
        generation.state = .failed
        self.starting = nil
        self.leaving.append(generation)
        for worker in generation.liveWorkers {
            worker.stopRequested = true
            kill(worker.pid, SIGTERM)
        }
        self.killLater(generation.liveWorkers, after: Double(self.drainTimeout) + Self.killGrace)
        for socket in generation.fresh where !self.sockets.contains(where: { $0 === socket }) { socket.close() }
        self.forgetIfEmpty(generation)
        guard let current = self.current else {
            self.failStart(reason)
            return
        }
        for line in reason.split(separator: "\n") { self.logger.error("\(line)") }
        self.logger.error(
            "reload failed: the new workers could not start; the current configuration keeps serving",
            metadata: ["config.generation": "\(current.number)"])
        self.metrics.reloaded(succeeded: false)
        self.reloadFinished()
    }

    private func forgetIfEmpty(_ generation: Generation) {
        guard generation.liveWorkers.isEmpty, let at = self.leaving.firstIndex(where: { $0 === generation }) else { return }
        self.leaving.remove(at: at)
        if generation.state == .leaving {
            self.logger.info("generation retired", metadata: ["config.generation": "\(generation.number)"])
        }
    }

    private var liveWorkers: [Worker] {
        ([self.current, self.starting].compactMap { $0 } + self.leaving).flatMap(\.liveWorkers)
    }

    // MARK: - Reload

    private func reload() {
        guard self.stopMode == nil else { return }
        guard !self.reloading else {
            self.reloadAgain = true
            self.logger.notice("reload requested during a reload; it follows when this one is done")
            return
        }
        self.reloading = true
        self.logger.notice("reloading", metadata: ["config.file": "\(self.configFile)"])
        let file = self.configFile
        let logger = self.logger
        // Off the queue: building an app can take minutes, and workers keep being supervised.
        DispatchQueue.global().async {
            let result = ConfigurationPlan.make(file: file, logger: logger)
            self.queue.async { self.apply(result) }
        }
    }

    private func apply(_ result: Result<ConfigurationPlan, PlanFailure>) {
        guard self.stopMode == nil else { return }
        let plan: ConfigurationPlan
        switch result {
        case .failure(let failure):
            self.refuse(failure.errors)
            return
        case .success(let value):
            plan = value
        }
        let assignment: ListenerAssignment
        do {
            assignment = try ListenerAssignment.assign(plan.config.listeners, reusing: self.sockets)
        } catch {
            self.refuse(["\(error)"])
            return
        }
        do {
            if let runAs = plan.config.runAs { try Privileges.prepareLogFiles(plan.config, for: runAs) }
            try self.updateAdmin(plan.config.admin)
        } catch {
            for socket in assignment.fresh { socket.close() }
            self.refuse(["\(error)"])
            return
        }
        let generation = self.makeGeneration(plan, assignment: assignment)
        self.starting = generation
        self.launch(generation)
    }

    /// The new file cannot be served: every problem is logged, nothing else changes.
    private func refuse(_ errors: [String]) {
        for error in errors {
            for line in error.split(separator: "\n") { self.logger.error("\(line)") }
        }
        let count = errors.count
        self.logger.error(
            "reload refused: \(count) error\(count == 1 ? "" : "s") in \(self.configFile); the current configuration keeps serving",
            metadata: ["config.generation": "\(self.current?.number ?? 0)"])
        self.metrics.reloaded(succeeded: false)
        self.reloadFinished()
    }

    private func reloadFinished() {
        self.reloading = false
        if self.reloadAgain {
            self.reloadAgain = false
            self.reload()
        }
    }

    // MARK: - Admin endpoint

    private func updateAdmin(_ config: AdminConfig?) throws {
        if self.admin?.config.address == config?.address && self.admin?.config.port == config?.port { return }
        guard let config else {
            self.admin?.server.stop()
            self.admin = nil
            return
        }
        let respond: AdminServer.Responder = { path in
            await withCheckedContinuation { continuation in
                self.queue.async { continuation.resume(returning: self.adminReply(path)) }
            }
        }
        let server: AdminServer
        do {
            server = try AdminServer(address: config.address, port: config.port, respond: respond)
        } catch {
            // The old endpoint may hold the port (only the address changed): free it, retry once.
            guard let old = self.admin else { throw AdminError(config: config, underlying: error) }
            old.server.stop()
            self.admin = nil
            do {
                server = try AdminServer(address: config.address, port: config.port, respond: respond)
            } catch {
                throw AdminError(config: config, underlying: error)
            }
        }
        self.admin?.server.stop()
        self.admin = (config, server)
        self.logger.notice("admin endpoint ready", metadata: ["admin.endpoint": "\(config.address.contains(":") ? "[\(config.address)]" : config.address):\(server.port)"])
    }

    private func adminReply(_ path: String) -> AdminServer.Reply {
        let census = self.census()
        switch path {
        case "/metrics":
            var requests = self.metrics.retired
            for worker in self.liveWorkers { if let report = worker.report { requests.merge(report.requests) } }
            return AdminServer.Reply(
                status: 200, contentType: PrometheusText.contentType,
                body: PrometheusText.render(requests: requests, master: self.metrics, census: census))
        case "/health":
            let summary = "generation=\(census.generation) workers=\(census.ready)/\(census.expected)\n"
            if self.stopMode != nil { return AdminServer.Reply(status: 503, body: "stopping " + summary) }
            guard census.ready > 0 else { return AdminServer.Reply(status: 503, body: "starting " + summary) }
            return AdminServer.Reply(status: 200, body: "ready " + summary)
        default:
            return AdminServer.Reply(status: 404, body: "not found; try /metrics or /health\n")
        }
    }

    private func census() -> WorkerCensus {
        let currentWorkers = self.current?.liveWorkers ?? []
        let ready = currentWorkers.filter(\.isReady).count
        let leaving = self.leaving.flatMap(\.liveWorkers).count
        return WorkerCensus(
            generation: self.current?.number ?? 0,
            expected: self.current?.slots.count ?? 0,
            ready: ready,
            starting: currentWorkers.count - ready + (self.starting?.liveWorkers.count ?? 0),
            retiring: leaving,
            openConnections: self.liveWorkers.reduce(0) { $0 + ($1.report?.openConnections ?? 0) })
    }

    // MARK: - Logs and stopping

    private func reopenLogs() {
        self.logger.notice("reopening log files")
        do { try self.sink.reopen() } catch { self.logger.error("cannot reopen error log", metadata: ["error": "\(error)"]) }
        for worker in self.liveWorkers { kill(worker.pid, SIGUSR1) }
    }

    private func stop(_ mode: StopMode, exitCode: Int32 = 0) {
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
        for worker in workers {
            worker.stopRequested = true
            kill(worker.pid, mode == .graceful ? SIGTERM : SIGQUIT)
        }
        self.killLater(workers, after: (mode == .graceful ? Double(self.drainTimeout) : 0) + Self.killGrace)
        if workers.isEmpty { self.finish() }
    }

    private func finish() {
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

/// One configuration generation: its plan, its sockets, and a worker per slot. Touched on
/// the master's queue only (hence unchecked).
final class Generation: @unchecked Sendable {
    enum State { case starting, serving, leaving, failed }

    let number: Int
    let plan: ConfigurationPlan
    /// One per `listen:` entry, in file order.
    let sockets: [ListeningSocket]
    /// The sockets bound for this generation (the others were reused).
    let fresh: [ListeningSocket]
    var state = State.starting
    var slots: [Worker?]
    /// When each slot's worker died after being ready, for spotting a storm.
    var deaths: [[Double]]
    /// Consecutive failures of each slot to become ready, for back-off.
    var startFailures: [Int]

    init(number: Int, plan: ConfigurationPlan, sockets: [ListeningSocket], fresh: [ListeningSocket]) {
        self.number = number
        self.plan = plan
        self.sockets = sockets
        self.fresh = fresh
        let count = plan.config.workers
        self.slots = Array(repeating: nil, count: count)
        self.deaths = Array(repeating: [], count: count)
        self.startFailures = Array(repeating: 0, count: count)
    }

    var liveWorkers: [Worker] { self.slots.compactMap { $0 } }
}

/// A worker process as the master sees it; touched on the master's queue only.
final class Worker: @unchecked Sendable {
    let pid: pid_t
    let slot: Int
    let generation: Generation
    /// The master's end of the control pipe; closing it tells the worker the master is gone.
    let control: Int32
    /// Read (and closed) by the worker's watch thread.
    let status: Int32
    var hasExited = false
    var isReady = false
    var readyAt: Double?
    /// The master asked it to stop: its exit is expected.
    var stopRequested = false
    /// It reported that it closed its listening sockets.
    var stoppedAccepting = false
    /// Why it could not start, as it reported.
    var failure: String?
    var report: WorkerMetrics?

    init(pid: pid_t, slot: Int, generation: Generation, control: Int32, status: Int32) {
        self.pid = pid
        self.slot = slot
        self.generation = generation
        self.control = control
        self.status = status
    }

    var metadata: Logger.Metadata {
        ["worker.pid": "\(self.pid)", "worker.slot": "\(self.slot)", "config.generation": "\(self.generation.number)"]
    }
}

/// Reports travel from a watch thread to the master's queue.
private struct ReportBatch: @unchecked Sendable {
    let reports: [WorkerReport]
    init(_ reports: [WorkerReport]) { self.reports = reports }
}

private struct WeakWorker: @unchecked Sendable {
    weak var worker: Worker?
    init(_ worker: Worker) { self.worker = worker }
}

struct AdminError: Error, CustomStringConvertible {
    var config: AdminConfig
    var underlying: Error
    var description: String {
        "\(self.config.location): cannot listen on \(self.config.endpointDescription) for the admin endpoint: \(self.underlying)"
    }
}
