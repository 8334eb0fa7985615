import Dispatch
import Foundation
import Logging

/// Raises the soft open-files limit to the hard one: every connection costs a descriptor.
enum ResourceLimits {
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// A one-shot event a task can wait for.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func fire() {
        self.lock.lock()
        let waiters = self.fired ? [] : self.waiters
        self.fired = true
        self.waiters = []
        self.lock.unlock()
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            self.lock.lock()
            if self.fired {
                self.lock.unlock()
                continuation.resume()
            } else {
                self.waiters.append(continuation)
                self.lock.unlock()
            }
        }
    }
}

/// Signal handling through Dispatch: the handler runs on a queue, not in a signal context,
/// so it may log, lock and allocate.
enum SignalWatcher {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let queue = DispatchQueue(label: "berth.signals")

    /// Calls `handler` for every `signo` delivered to the process, instead of its default action.
    static func watch(_ signo: Int32, _ handler: @escaping @Sendable () -> Void) {
        signal(signo, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signo, queue: self.queue)
        source.setEventHandler(handler: handler)
        source.resume()
        self.sources.append(source)
    }
}
