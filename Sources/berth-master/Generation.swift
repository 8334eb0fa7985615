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
struct ReportBatch: @unchecked Sendable {
    let reports: [WorkerReport]
    init(_ reports: [WorkerReport]) { self.reports = reports }
}

struct WeakWorker: @unchecked Sendable {
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
