import Foundation
@_spi(BerthServer) import BerthApp

/// An app's answer to a request from ``AppTestClient``: the status and header fields it set,
/// and its body, which can be read once, whole or chunk by chunk as a streaming app writes it.
public struct TestResponse: Sendable {
    /// The status.
    public let status: Response.Status
    /// The header fields the app set (the server would add framing and `Date`).
    public let headers: Headers
    /// The body, read once: `for try await chunk in response.body`, or ``bytes()``, ``text()``,
    /// ``json(as:)``.
    public let body: TestResponseBody
    /// The pattern of the route that answered (`"GET /notes/:id"`), nil when none matched: the
    /// label the server's logs and metrics use.
    public let route: String?
    /// What the server would write to its error log for this request (an error the app threw,
    /// a refused header), nil when the app answered normally, even with a 4xx it chose.
    public let loggedError: String?

    init(outcome: AppOutcome, method: Request.Method) {
        status = outcome.response.status
        headers = outcome.response.headers
        route = outcome.route
        loggedError = outcome.error
        // The server sends no body in answer to HEAD (RFC 9110 §9.3.2).
        body = TestResponseBody(method == .head ? .empty : outcome.response.body)
    }

    /// The whole body.
    public func bytes() async throws -> [UInt8] {
        try await body.collect()
    }

    /// The whole body as UTF-8 text.
    public func text() async throws -> String {
        String(decoding: try await body.collect(), as: UTF8.self)
    }

    /// The whole body decoded from JSON, dates as ISO 8601 strings (as ``Response/json(_:status:)``
    /// writes them).
    public func json<T: Decodable>(as type: T.Type) async throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(try await body.collect()))
    }
}

/// A response body as chunks. For a streamed body (``Response/Body/stream(_:)``) the app's
/// closure starts when the test first reads, and each chunk arrives as the app writes it;
/// an error the closure throws ends the sequence with that error, as the server cuts the
/// response off. A `.file` body is the file's bytes, read when asked for.
public final class TestResponseBody: AsyncSequence, @unchecked Sendable {
    /// One chunk as the app wrote it.
    public typealias Element = [UInt8]

    private let source: Response.Body
    /// Guards `isClaimed`.
    private let claimed = NSLock()
    private var isClaimed = false

    init(_ source: Response.Body) {
        self.source = source
    }

    /// Reads the chunks in order.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var stream: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator

        init(_ stream: AsyncThrowingStream<[UInt8], any Error>) {
            self.stream = stream.makeAsyncIterator()
        }

        /// The next chunk, or nil at the end.
        public mutating func next() async throws -> [UInt8]? {
            try await stream.next()
        }
    }

    /// Starts reading; a body can be read by one iterator only (later ones throw
    /// ``RequestBodyError/alreadyRead``, as a request body does).
    public func makeAsyncIterator() -> AsyncIterator {
        let first = claimed.withLock {
            defer { isClaimed = true }
            return !isClaimed
        }
        guard first else { return AsyncIterator(AsyncThrowingStream { $0.finish(throwing: RequestBodyError.alreadyRead) }) }
        switch source {
        case .empty:
            return AsyncIterator(AsyncThrowingStream { $0.finish() })
        case .bytes(let bytes):
            return AsyncIterator(AsyncThrowingStream { continuation in
                if !bytes.isEmpty { continuation.yield(bytes) }
                continuation.finish()
            })
        case .file(let path):
            return AsyncIterator(AsyncThrowingStream { continuation in
                guard let data = FileManager.default.contents(atPath: path) else {
                    continuation.finish(throwing: TestResponseBodyError.unreadableFile(path))
                    return
                }
                if !data.isEmpty { continuation.yield(Array(data)) }
                continuation.finish()
            })
        case .stream(let produce):
            return AsyncIterator(Self.stream(produce))
        @unknown default:
            return AsyncIterator(AsyncThrowingStream { $0.finish(throwing: TestResponseBodyError.unknownBody) })
        }
    }

    /// Runs the app's producer in a task of its own, its writes feeding the stream; the task is
    /// cancelled when the test stops reading, and a write after that throws, as a write to a
    /// client that went away does.
    private static func stream(
        _ produce: @escaping @Sendable (ResponseBodyWriter) async throws -> Void
    ) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            let writer = ResponseBodyWriter { bytes in
                if case .terminated = continuation.yield(bytes) { throw CancellationError() }
            }
            let producer = Task {
                do {
                    try await produce(writer)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in producer.cancel() }
        }
    }

    /// Every chunk, joined.
    func collect() async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in self { bytes += chunk }
        return bytes
    }
}

/// A response body the test client could not read.
public enum TestResponseBodyError: Error, Sendable, CustomStringConvertible {
    /// The app answered with `.file(path)` and the file cannot be read (the server answers 404).
    case unreadableFile(String)
    /// A body kind newer than this test kit.
    case unknownBody

    /// A sentence for test output.
    public var description: String {
        switch self {
        case .unreadableFile(let path): return "the app answered with file \(path), which cannot be read"
        case .unknownBody: return "the app answered with a kind of body this test kit does not know"
        }
    }
}
