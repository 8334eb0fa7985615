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

/// Generations coming and going: a reload checks the file off the master's queue, starts a
/// new generation, hands the sockets over once it is ready, and retires the old one.
extension Master {
    /// Every worker of `generation` reported ready: it takes over.
    func serve(_ generation: Generation) {
        generation.state = .serving
        self.starting = nil
        let previous = self.current
        self.current = generation
        self.watchFiles(of: generation.plan)
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
            if self.reloadAgain {
                self.reloadAgain = false
                self.reload()
            }
            return
        }
        self.movePidFile(to: config.pidFilePath)
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

    func completeReloadIfDrained() {
        guard let handover = self.handover, handover.previous.liveWorkers.allSatisfy(\.stoppedAccepting) else { return }
        self.completeReload()
    }

    func completeReload() {
        guard let handover = self.handover else { return }
        self.handover = nil
        self.logger.notice("reloaded", metadata: handover.metadata)
        self.metrics.reloaded(succeeded: true)
        self.reloadFinished()
    }

    /// Tells every worker of `generation` to stop accepting, finish its in-flight responses
    /// and exit (SIGTERM); kills those still there after the drain timeout, or the longer
    /// `websocket_drain` its WebSockets may stay open for, and a grace period.
    func retire(_ generation: Generation) {
        generation.state = .leaving
        self.leaving.append(generation)
        for worker in generation.liveWorkers {
            worker.stopRequested = true
            kill(worker.pid, SIGTERM)
        }
        let bound = max(self.drainSeconds(generation), Self.seconds(generation.plan.config.webSocketDrain))
        self.killLater(generation.liveWorkers, after: bound + Self.webSocketCloseReply + Self.killGrace)
        self.forgetIfEmpty(generation)
    }

    func killLater(_ workers: [Worker], after seconds: Double) {
        let workers = workers.map { WeakWorker($0) }
        self.queue.asyncAfter(deadline: .now() + seconds) {
            for worker in workers.compactMap(\.worker) where !worker.hasExited {
                self.logger.warning("worker did not exit in time; killing it", metadata: worker.metadata)
                kill(worker.pid, SIGKILL)
            }
        }
    }

    /// A generation that was starting could not be put into service.
    func fail(_ generation: Generation, reason: String) {
        guard generation.state == .starting else { return }
        generation.state = .failed
        self.starting = nil
        self.leaving.append(generation)
        for worker in generation.liveWorkers {
            worker.stopRequested = true
            kill(worker.pid, SIGTERM)
        }
        self.killLater(generation.liveWorkers, after: self.drainSeconds(generation) + Self.killGrace)
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

    func forgetIfEmpty(_ generation: Generation) {
        guard generation.liveWorkers.isEmpty, let at = self.leaving.firstIndex(where: { $0 === generation }) else { return }
        self.leaving.remove(at: at)
        if generation.state == .leaving {
            self.logger.info("generation retired", metadata: ["config.generation": "\(generation.number)"])
        }
    }

    var liveWorkers: [Worker] {
        ([self.current, self.starting].compactMap { $0 } + self.leaving).flatMap(\.liveWorkers)
    }

    // MARK: - Reload

    func reload() {
        guard self.stopMode == nil else { return }
        // Before the first generation is ready, a reload waits for it.
        guard !self.reloading, self.current != nil else {
            self.reloadAgain = true
            self.logger.notice("reload requested while workers are starting; it follows once they are ready")
            return
        }
        self.reloading = true
        self.logger.notice("reloading", metadata: ["config.file": "\(self.configFile)"])
        let file = self.configFile
        let logger = self.logger
        let mode = self.mode
        let changed = self.devLoop?.changedPackages ?? [:]
        // Off the queue: building an app can take minutes, and workers keep being supervised.
        DispatchQueue.global().async {
            let result = ConfigurationPlan.make(file: file, logger: logger, mode: mode, rebuilding: Set(changed.keys))
            self.queue.async { self.apply(result, rebuilt: changed) }
        }
    }

    /// `rebuilt`: the packages `berth dev` had seen change when this reload began, built now.
    func apply(_ result: Result<ConfigurationPlan, PlanFailure>, rebuilt: [String: Int]) {
        guard self.stopMode == nil else { return }
        let plan: ConfigurationPlan
        switch result {
        case .failure(let failure):
            self.refuse(failure.errors)
            return
        case .success(let value):
            plan = value
            self.devLoop?.built(rebuilt)
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
        self.prepareCertificates(for: plan) { self.launch(generation) }
    }

    /// The new file cannot be served: every problem is logged, nothing else changes.
    func refuse(_ errors: [String]) {
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

    func reloadFinished() {
        self.reloading = false
        if self.reloadAgain {
            self.reloadAgain = false
            self.reload()
        }
    }

    /// A reload that names another pid file: write the new one, then remove the old.
    func movePidFile(to path: String?) {
        guard path != self.pidFile?.path else { return }
        do {
            let claimed = try path.map { try PidFile.claim($0) }
            self.pidFile?.remove()
            self.pidFile = claimed
        } catch {
            self.logger.error("\(error)")
        }
    }
}
