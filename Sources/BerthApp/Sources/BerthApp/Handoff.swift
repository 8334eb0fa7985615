#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the server hands over to an app's task and the task has not taken yet: the chunks of a
/// request body, the messages of a WebSocket. One producer (the connection's event loop), one
/// consumer (the app's task), and a bound between them.
///
/// Each item weighs something (a chunk its bytes, a message one): once `limit` waits, ``offer(_:)``
/// tells the producer to stop reading from the client, and `onDemand` tells it (on any thread)
/// when the consumer has taken the queue down to half the limit, so the producer is not woken
/// for every item. So a slow app holds about `limit`, whatever the client sends.
final class Handoff<Element: Sendable>: @unchecked Sendable {
    private let lock = PlainLock()
    private let limit: Int
    private let weight: @Sendable (Element) -> Int
    private let onDemand: @Sendable () -> Void
    /// What a second reader waiting alongside the first gets.
    private let concurrentRead: any Error
    /// Every field below is guarded by `lock`.
    private var items: [Element] = []
    private var head = 0
    private var waiting = 0
    private var finished = false
    private var failure: (any Error)?
    private var discarded = false
    private var producerStopped = false
    private var waiter: CheckedContinuation<Element?, any Error>?

    init(limit: Int, weight: @escaping @Sendable (Element) -> Int, concurrentRead: any Error,
         onDemand: @escaping @Sendable () -> Void) {
        self.limit = max(1, limit)
        self.weight = weight
        self.concurrentRead = concurrentRead
        self.onDemand = onDemand
    }

    /// Hands `item` over: to a waiting consumer at once, or into the queue. False when the
    /// producer should stop until `onDemand`. After the end or a discard the item is dropped
    /// (and the producer may go on: it is draining the client).
    func offer(_ item: Element) -> Bool {
        lock.lock()
        if finished || discarded {
            lock.unlock()
            return true
        }
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: item)
            return true
        }
        items.append(item)
        waiting += weight(item)
        let stop = waiting >= limit
        if stop { producerStopped = true }
        lock.unlock()
        return !stop
    }

    /// No more items: the consumer gets those queued, then the end, or `error`.
    func finish(throwing error: (any Error)? = nil) {
        lock.lock()
        guard !finished else { return lock.unlock() }
        finished = true
        failure = error
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        if let error {
            waiter?.resume(throwing: error)
        } else {
            waiter?.resume(returning: nil)
        }
    }

    /// Drops what is queued and whatever is offered later; a stopped producer may go on.
    func discardRemaining() {
        lock.lock()
        discarded = true
        items = []
        head = 0
        waiting = 0
        let resume = producerStopped
        producerStopped = false
        lock.unlock()
        if resume { onDemand() }
    }

    /// The next item, nil at the end; throws the producer's error, `CancellationError` when
    /// the consumer's task is cancelled, and `concurrentRead` while another read waits.
    func next() async throws -> Element? {
        switch try take() {
        case .item(let item): return item
        case .end: return nil
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                lock.lock()
                if waiter != nil {
                    lock.unlock()
                    continuation.resume(throwing: concurrentRead)
                    return
                }
                // Something may have arrived between `take` and taking the lock.
                if head < items.count || finished || Task.isCancelled {
                    lock.unlock()
                    continuation.resume(with: Result {
                        if case .item(let item) = try take() { return item }
                        return nil
                    })
                    return
                }
                waiter = continuation
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            let waiter = self.waiter
            self.waiter = nil
            lock.unlock()
            waiter?.resume(throwing: CancellationError())
        }
    }

    private enum Take {
        case item(Element)
        case end
        case wait
    }

    private func take() throws -> Take {
        lock.lock()
        if head < items.count {
            let item = items[head]
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            }
            waiting -= weight(item)
            let resume = producerStopped && waiting <= limit / 2
            if resume { producerStopped = false }
            lock.unlock()
            if resume { onDemand() }
            return .item(item)
        }
        if finished {
            let failure = self.failure
            lock.unlock()
            if let failure { throw failure }
            return .end
        }
        let cancelled = Task.isCancelled
        lock.unlock()
        if cancelled { throw CancellationError() }
        return .wait
    }
}

/// A mutex with separate `lock` and `unlock` (a hand-off stores a continuation while holding
/// it briefly, which a closure-only lock cannot express), without linking Foundation
/// into every app and worker for `NSLock`.
final class PlainLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }

    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}
