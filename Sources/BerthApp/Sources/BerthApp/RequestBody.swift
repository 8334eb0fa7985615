internal import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A request's body as it arrives: an `AsyncSequence` of byte chunks, read once.
///
/// The server has already enforced the host's body limit; an app that wants a smaller one
/// passes it to ``collect(upTo:)``. While the app is not reading, the server buffers a bounded
/// amount and then stops reading from the client (backpressure).
public final class RequestBody: AsyncSequence, Sendable {
    /// One chunk of the body as the client sent it.
    public typealias Element = [UInt8]

    /// Nil for a body that is empty and complete from the start (most requests): it needs no
    /// buffer and no lock, only the mark that it was read.
    let storage: Storage?
    private let emptyBodyClaimed = Atomic<Bool>(false)

    init(storage: Storage?) {
        self.storage = storage
    }

    deinit {
        // Nobody can read the body any more: let the server drain the rest from the client.
        storage?.discardRemaining()
    }

    /// Reads the chunks in order; the body can be read by one iterator only.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let body: RequestBody
        var claimed = false

        /// The next chunk, or nil at the end. Throws ``RequestBodyError/alreadyRead`` when the body
        /// was read before, or the server's error when the client went away mid-body.
        public mutating func next() async throws -> [UInt8]? {
            if !claimed {
                claimed = true
                try body.claim()
            }
            guard let storage = body.storage else { return nil }
            return try await storage.next()
        }
    }

    private func claim() throws {
        if let storage {
            try storage.claim()
        } else if emptyBodyClaimed.exchange(true, ordering: .relaxed) {
            throw RequestBodyError.alreadyRead
        }
    }

    /// Starts reading the body.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: self)
    }

    /// Reads the whole body into memory, refusing one longer than `limit` bytes with
    /// ``RequestBodyError/tooLarge(limit:)``, which the server answers with a 413.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self {
            guard chunk.count <= limit - bytes.count else {
                throw RequestBodyError.tooLarge(limit: limit)
            }
            if bytes.isEmpty {
                bytes = chunk
            } else {
                bytes.append(contentsOf: chunk)
            }
        }
        return bytes
    }
}

/// The server's end of a streaming ``RequestBody``.
@_spi(BerthServer)
public struct RequestBodySource: Sendable {
    /// What the server should do after handing over a chunk.
    public enum YieldResult: Sendable {
        /// Keep reading from the client.
        case produceMore
        /// Stop reading until the body calls the `onDemand` closure given to
        /// ``RequestBody/stream(highWatermark:onDemand:)``.
        case stopProducing
    }

    let storage: RequestBody.Storage

    /// Hands a chunk to the app. A chunk that arrives after the app stopped caring is dropped,
    /// and the answer is then always ``YieldResult/produceMore`` so the server drains the client.
    public func yield(_ chunk: [UInt8]) -> YieldResult {
        storage.yield(chunk)
    }

    /// The body ended normally.
    public func finish() {
        storage.finish(throwing: nil)
    }

    /// The body ended abnormally (client gone, timeout); the app's next read throws `error`.
    public func fail(_ error: any Error) {
        storage.finish(throwing: error)
    }

    /// Drops what is buffered and accepts (and drops) the rest: call it once the response is
    /// written, so an app that never read its body cannot stall the connection.
    public func discardRemaining() {
        storage.discardRemaining()
    }
}

@_spi(BerthServer)
extension RequestBody {
    /// A body the server feeds chunk by chunk. `onDemand` is called, on any thread, when the app
    /// has read enough that a server told to stop may read again.
    public static func stream(
        highWatermark: Int = 256 * 1024,
        onDemand: @escaping @Sendable () -> Void
    ) -> (body: RequestBody, source: RequestBodySource) {
        let storage = Storage(highWatermark: highWatermark, onDemand: onDemand)
        return (RequestBody(storage: storage), RequestBodySource(storage: storage))
    }

    /// A body that is already complete (possibly empty).
    public convenience init(bytes: [UInt8]) {
        guard !bytes.isEmpty else {
            self.init(storage: nil)
            return
        }
        let storage = Storage(highWatermark: .max, onDemand: {})
        _ = storage.yield(bytes)
        storage.finish(throwing: nil)
        self.init(storage: storage)
    }
}

extension RequestBody {
    /// Shared between the body and its source; every field is guarded by `lock`.
    final class Storage: @unchecked Sendable {
        private let lock = PlainLock()
        private let highWatermark: Int
        private let onDemand: @Sendable () -> Void
        private var chunks: [[UInt8]] = []
        private var head = 0
        private var bufferedBytes = 0
        private var finished = false
        private var failure: (any Error)?
        private var waiter: CheckedContinuation<[UInt8]?, any Error>?
        private var producerStopped = false
        private var discarded = false
        private var claimed = false

        init(highWatermark: Int, onDemand: @escaping @Sendable () -> Void) {
            self.highWatermark = highWatermark
            self.onDemand = onDemand
        }

        func claim() throws {
            let alreadyClaimed = lock.withLock {
                defer { claimed = true }
                return claimed
            }
            if alreadyClaimed { throw RequestBodyError.alreadyRead }
        }

        func yield(_ chunk: [UInt8]) -> RequestBodySource.YieldResult {
            lock.lock()
            if discarded || finished || chunk.isEmpty {
                lock.unlock()
                return .produceMore
            }
            if let waiter {
                self.waiter = nil
                lock.unlock()
                waiter.resume(returning: chunk)
                return .produceMore
            }
            chunks.append(chunk)
            bufferedBytes += chunk.count
            let stop = bufferedBytes >= highWatermark
            if stop { producerStopped = true }
            lock.unlock()
            return stop ? .stopProducing : .produceMore
        }

        func finish(throwing error: (any Error)?) {
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

        func discardRemaining() {
            lock.lock()
            discarded = true
            chunks = []
            head = 0
            bufferedBytes = 0
            let resume = producerStopped
            producerStopped = false
            lock.unlock()
            if resume { onDemand() }
        }

        func next() async throws -> [UInt8]? {
            switch try takeBuffered() {
            case .chunk(let chunk): return chunk
            case .end: return nil
            case .wait: break
            }
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    lock.lock()
                    // Something may have arrived between `takeBuffered` and taking the lock.
                    if head < chunks.count || finished || Task.isCancelled {
                        lock.unlock()
                        continuation.resume(with: Result {
                            if case .chunk(let chunk) = try takeBuffered() { return chunk }
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
            case chunk([UInt8])
            case end
            case wait
        }

        private func takeBuffered() throws -> Take {
            lock.lock()
            if head < chunks.count {
                let chunk = chunks[head]
                head += 1
                if head == chunks.count {
                    chunks.removeAll(keepingCapacity: true)
                    head = 0
                }
                bufferedBytes -= chunk.count
                // Resume at half the mark, not just under it, so the server is not woken per chunk.
                let resume = producerStopped && bufferedBytes <= highWatermark / 2
                if resume { producerStopped = false }
                lock.unlock()
                if resume { onDemand() }
                return .chunk(chunk)
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
}

/// A mutex with separate `lock` and `unlock` (a body's source waits on a continuation while
/// holding it briefly, which a closure-only lock cannot express), without linking Foundation
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
