import BerthConfig
import BerthProcess
import BerthServer
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Serving as one worker process, started by the master (never by people).
///
/// It serves on the listening sockets it inherited, switches to the configured account,
/// loads the apps and reports "ready". On SIGTERM (a reload retires its generation) it stops
/// accepting, finishes its in-flight responses within the drain timeout, leaves its WebSockets
/// open up to `websocket_drain`, and exits; on SIGINT (a stop) or when the master disappears,
/// WebSockets get the drain timeout too.
enum WorkerRun {
    /// Serves until told to stop; the process's exit status.
    static func run(_ start: WorkerStart.Prepared) async -> Int32 {
        let (brief, config, listenerFDs, sink, status) = (start.brief, start.config, start.listeners, start.sink, start.status)
        func fail(_ message: String) -> Int32 {
            status.send(.failed(message))
            return 1
        }
        let logger = Logger(label: "berth")

        let stop = StopSignal()
        let server = ServerBox()
        let retired = Mutex(false)
        SignalWatcher.watch(SIGTERM) {
            retired.withLock { $0 = true }
            stop.fire()
        }
        // A stop (or the master's end) while a reload's drain keeps WebSockets open closes them now.
        let stopNow: @Sendable () -> Void = {
            if retired.withLock({ retired in defer { retired = false }; return retired }) { server.value?.closeWebSockets() }
            stop.fire()
        }
        SignalWatcher.watch(SIGINT) { stopNow() }
        // SIGQUIT is the master's "stop now": no drain.
        SignalWatcher.watch(SIGQUIT) { _exit(0) }
        // Reloads are the master's business; a stray SIGHUP must not kill a worker.
        SignalWatcher.watch(SIGHUP) {}
        SignalWatcher.watch(SIGUSR1) {
            do { try sink.reopen() } catch { logger.error("cannot reopen error log", metadata: ["error": "\(error)"]) }
            server.value?.reopenLogs()
            // Said once every file is switched: a new file appears when the first is reopened,
            // and a line logged before the last one still goes to the old file. A rotation
            // script (or a test) that waits for this knows the old files are done with.
            logger.notice("log files reopened")
        }
        MasterWatch.start(fd: WorkerDescriptors.control) {
            logger.warning("the master is gone; draining and exiting")
            stopNow()
        }

        let apps: [String: AppEndpoint]
        do {
            apps = try await AppStarting.start(config, paths: brief.appLibraries, logger: logger)
            let started = try Server(config: config, apps: apps, unbuiltApps: brief.unbuiltApps, logger: logger)
            _ = try await started.start(inheriting: listenerFDs)
            server.value = started
        } catch {
            return fail("\(error)")
        }
        status.send(.ready)

        let reporter = brief.reportsMetrics ? Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let server = server.value else { continue }
                status.send(.metrics(WorkerMetrics(requests: await server.requestMetrics.snapshot(), openConnections: server.openConnections,
                                                   openWebSockets: server.openWebSockets)))
            }
        } : nil

        await stop.wait()
        guard let running = server.value else {
            reporter?.cancel()
            return 0
        }
        await running.stopAccepting()
        status.send(.draining)
        // The reports go on while draining: the master shows the connections still open.
        let drain = Duration.milliseconds(Int64(brief.drainTimeoutSeconds * 1000))
        await running.drain(drainTimeout: drain, webSocketDrain: retired.withLock { $0 } ? config.webSocketDrain : drain)
        // Stopped while the event loops still answer it, and before the final report, so no
        // earlier one arrives after that.
        reporter?.cancel()
        await reporter?.value
        await running.shutdown()
        await AppStarting.stop(apps)
        if brief.reportsMetrics {
            status.send(.metrics(WorkerMetrics(requests: running.requestMetrics.finalSnapshot(), openConnections: 0, openWebSockets: 0)))
        }
        return 0
    }
}

/// What a worker sets up before the async runtime starts (see `BerthMain`): its inherited
/// descriptors, its brief and configuration, its error log, and its account.
enum WorkerStart {
    struct Prepared {
        var brief: WorkerBrief
        var config: ServerConfig
        var listeners: [Int32]
        var sink: ErrorLogSink
        var status: StatusChannel
    }

    /// Exits the process when the worker cannot start (after telling the master why), so
    /// nothing of a half-prepared worker ever serves.
    static func prepare() -> Prepared? {
        // Started by hand: the caller says so.
        guard let listeners = WorkerDescriptors.inheritedListeners() else { return nil }
        let status = StatusChannel(fd: WorkerDescriptors.status)
        func fail(_ message: String) -> Never {
            status.send(.failed(message))
            exit(1)
        }
        // Inherited without close-on-exec so they survived the exec; nothing this process
        // starts may inherit them again.
        for fd in [WorkerDescriptors.control, WorkerDescriptors.status] + listeners { Descriptor.setCloseOnExec(fd) }
        signal(SIGPIPE, SIG_IGN)
        guard let brief = WorkerBrief.read(from: WorkerDescriptors.control) else { fail("no brief from the master") }
        let config = brief.config
        guard listeners.count == config.listeners.count else {
            fail("\(listeners.count) listening sockets for \(config.listeners.count) listeners")
        }
        ResourceLimits.raiseOpenFileLimit()
        let sink: ErrorLogSink
        do {
            // Opened before switching accounts, like the standard streams it may be.
            sink = try ErrorLogSink(destination: config.logs.error)
        } catch {
            fail("\(error)")
        }
        LoggingSystem.bootstrap { label in ErrorLogHandler(sink: sink, logLevel: .info, label: label) }
        if let runAs = config.runAs {
            do { try Privileges.drop(to: runAs) } catch { fail("\(runAs.location): \(error)") }
        }
        return Prepared(brief: brief, config: config, listeners: listeners, sink: sink, status: status)
    }
}

extension WorkerBrief {
    /// Reads the one JSON line the master writes first on the control descriptor.
    static func read(from fd: Int32) -> WorkerBrief? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while !bytes.contains(UInt8(ascii: "\n")) {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            bytes.append(contentsOf: chunk[0..<count])
        }
        let line = bytes.prefix { $0 != UInt8(ascii: "\n") }
        return WorkerBrief.decode(line: line)
    }
}

/// The worker's end of the status pipe; a line per write, from any thread.
final class StatusChannel: Sendable {
    private let fd: Mutex<Int32>

    init(fd: Int32) { self.fd = Mutex(fd) }

    func send(_ report: WorkerReport) {
        self.fd.withLock { fd in _ = Descriptor.writeAll(fd, Array(report.line.utf8)) }
    }
}

/// Notices the master's end: its end of the control pipe closes with it, even after SIGKILL,
/// and a worker must not serve on alone with sockets no one supervises.
enum MasterWatch {
    static func start(fd: Int32, onEnd: @escaping @Sendable () -> Void) {
        DetachedThread.start(name: "berth.master") {
            var byte: UInt8 = 0
            while true {
                let count = read(fd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
            }
            onEnd()
        }
    }
}

/// The running server, for signal handlers that may fire before it exists.
final class ServerBox: Sendable {
    private let server = Mutex<Server?>(nil)

    var value: Server? {
        get { self.server.withLock { $0 } }
        set { self.server.withLock { $0 = newValue } }
    }
}
