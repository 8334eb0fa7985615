import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import Logging

/// Raises the soft open-files limit to the hard one: every connection costs a descriptor.
package enum ResourceLimits {
    package static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// A one-shot event a task can wait for.
package final class StopSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    package init() {}

    package func fire() {
        let waiters = self.state.withLock { state in
            defer { state.fired = true; state.waiters = [] }
            return state.fired ? [] : state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    package func wait() async {
        await withCheckedContinuation { continuation in
            let fired = self.state.withLock { state in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}

/// Signal handling through Dispatch: the handler runs on a queue, not in a signal context,
/// so it may log, lock and allocate.
package enum SignalWatcher {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let queue = DispatchQueue(label: "berth.signals")

    /// Calls `handler` for every `signo` delivered to the process, instead of its default action.
    package static func watch(_ signo: Int32, _ handler: @escaping @Sendable () -> Void) {
        signal(signo, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signo, queue: self.queue)
        source.setEventHandler(handler: handler)
        source.resume()
        self.sources.append(source)
    }
}
