import BerthProcess
import Dispatch
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `berth-acme`: the certificate coordinator, one per machine, started and supervised by the
/// master (never by people) whenever the configuration has `tls: auto` or `tls: internal`
/// hosts. It orders, stores and renews their certificates; the workers read what it stores.
///
/// A process of its own because the master links no TLS or crypto library, and the workers
/// should not each order the same names: this binary alone carries the ACME client,
/// swift-crypto and swift-certificates.
///
/// Descriptors as for a worker (`WorkerDescriptors`): the master writes a `CertificatePlan`
/// line on 3 and reads `CoordinatorReport` lines from 4. End of file on 3 means the master is
/// gone, and the coordinator exits. Stopping at any moment is safe: every file is written
/// atomically, and an order cut short is placed again by the next coordinator.
@main
enum CoordinatorMain {
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        let control = WorkerDescriptors.control, statusFD = WorkerDescriptors.status
        guard fcntl(control, F_GETFD) >= 0, fcntl(statusFD, F_GETFD) >= 0, let plan = readPlan(from: control) else {
            Descriptor.writeAll(STDERR_FILENO, Array("berth-acme: started by berth's master, not by hand\n".utf8))
            exit(2)
        }
        for fd in [control, statusFD] { Descriptor.setCloseOnExec(fd) }
        let status = ReportChannel(fd: statusFD)
        let sink: ErrorLogSink
        do {
            sink = try ErrorLogSink(destination: plan.errorLog)
        } catch {
            status.send(.failed("\(error)"))
            exit(1)
        }
        LoggingSystem.bootstrap { label in ErrorLogHandler(sink: sink, logLevel: .info, label: label) }
        var logger = Logger(label: "berth.acme")
        logger[metadataKey: "process"] = "berth-acme"
        SignalWatcher.watch(SIGTERM) { exit(0) }
        SignalWatcher.watch(SIGINT) { exit(0) }
        SignalWatcher.watch(SIGHUP) {}
        SignalWatcher.watch(SIGUSR1) { try? sink.reopen() }
        DetachedThread.start(name: "berth.master") {
            var byte: UInt8 = 0
            while true {
                let count = read(control, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
            }
            exit(0)
        }
        let reporter = logger
        Task.detached {
            let code = await Coordinator.run(plan, status: status, logger: reporter)
            exit(code)
        }
        dispatchMain()
    }

    /// The one JSON line the master writes first.
    static func readPlan(from fd: Int32) -> CertificatePlan? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        // Byte by byte: the line is short, and nothing after it may be consumed here.
        while byte != UInt8(ascii: "\n") {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return nil }
            if byte != UInt8(ascii: "\n") { bytes.append(byte) }
        }
        return try? ConfigJSON.decode(CertificatePlan.self, from: Data(bytes))
    }
}

/// The coordinator's end of the status pipe; a line per write, from any thread.
final class ReportChannel: Sendable {
    private let fd: Mutex<Int32>

    init(fd: Int32) { self.fd = Mutex(fd) }

    func send(_ report: CoordinatorReport) {
        self.fd.withLock { fd in _ = Descriptor.writeAll(fd, Array(report.line.utf8)) }
    }
}
