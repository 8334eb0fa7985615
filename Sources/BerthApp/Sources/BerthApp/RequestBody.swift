internal import FoundationEssentials
import Synchronization

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
    /// Shared between the body and its source: the chunks not read yet, bounded by their bytes.
    final class Storage: Sendable {
        private let chunks: Handoff<[UInt8]>
        private let claimed = Atomic<Bool>(false)

        init(highWatermark: Int, onDemand: @escaping @Sendable () -> Void) {
            // One iterator reads (see `claim`), so a second reader cannot wait beside it.
            self.chunks = Handoff(limit: highWatermark, weight: { $0.count }, concurrentRead: RequestBodyError.alreadyRead,
                                  onDemand: onDemand)
        }

        func claim() throws {
            if claimed.exchange(true, ordering: .relaxed) { throw RequestBodyError.alreadyRead }
        }

        func yield(_ chunk: [UInt8]) -> RequestBodySource.YieldResult {
            if chunk.isEmpty { return .produceMore }
            return chunks.offer(chunk) ? .produceMore : .stopProducing
        }

        func finish(throwing error: (any Error)?) {
            chunks.finish(throwing: error)
        }

        func discardRemaining() {
            chunks.discardRemaining()
        }

        func next() async throws -> [UInt8]? {
            try await chunks.next()
        }
    }
}

@_spi(BerthServer)
extension RequestBody {
    /// An empty, complete body for a request, taking `previous` again when nothing holds it
    /// any more (the request it came with is gone) and keeping the new one there: most
    /// requests have no body, and an object for each costs an allocation per request.
    public static func empty(reusing previous: inout RequestBody?) -> RequestBody {
        if isKnownUniquelyReferenced(&previous), let body = previous, body.storage == nil {
            // Whoever read it last, on whatever thread, released it before this saw it unique.
            atomicMemoryFence(ordering: .acquiring)
            body.emptyBodyClaimed.store(false, ordering: .relaxed)
            return body
        }
        let body = RequestBody(storage: nil)
        previous = body
        return body
    }
}
