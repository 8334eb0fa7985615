import Foundation
@_spi(BerthServer) import BerthApp

/// The body of a request a test sends: `"text"` (a string literal), `.bytes(…)`, `.json(value)`,
/// or `.chunks(…)`, which the app reads as that many separate chunks, as from a client that
/// sends a body in pieces.
public struct TestRequestBody: Sendable, ExpressibleByStringLiteral {
    let chunks: [[UInt8]]
    /// The `Content-Type` sent unless the test gives one.
    let contentType: String?
    /// Why the body could not be made (a value that does not encode), thrown when it is sent.
    let problem: (any Error)?

    private init(chunks: [[UInt8]], contentType: String?, problem: (any Error)? = nil) {
        self.chunks = chunks.filter { !$0.isEmpty }
        self.contentType = contentType
        self.problem = problem
    }

    /// No body.
    public static let empty = TestRequestBody(chunks: [], contentType: nil)

    /// Bytes, sent as one chunk, with no `Content-Type` of their own.
    public static func bytes(_ bytes: [UInt8]) -> TestRequestBody {
        TestRequestBody(chunks: [bytes], contentType: nil)
    }

    /// Text as UTF-8, `text/plain; charset=utf-8`.
    public static func text(_ text: String) -> TestRequestBody {
        TestRequestBody(chunks: [Array(text.utf8)], contentType: "text/plain; charset=utf-8")
    }

    /// A value encoded as JSON (dates as ISO 8601, as ``Request/decode(as:limit:)`` reads them),
    /// `application/json`.
    public static func json(_ value: some Encodable) -> TestRequestBody {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        do {
            return TestRequestBody(chunks: [Array(try encoder.encode(value))], contentType: "application/json")
        } catch {
            return TestRequestBody(chunks: [], contentType: nil, problem: error)
        }
    }

    /// Bytes the app receives as separate chunks, in order, with no `Content-Type` of their own.
    public static func chunks(_ chunks: [[UInt8]]) -> TestRequestBody {
        TestRequestBody(chunks: chunks, contentType: nil)
    }

    /// Text from a string literal, as ``text(_:)``.
    public init(stringLiteral text: String) {
        self = .text(text)
    }

    /// The body as the app reads it: its chunks, then the end.
    func requestBody() throws -> RequestBody {
        if let problem { throw problem }
        let (body, source) = RequestBody.stream(highWatermark: .max, onDemand: {})
        for chunk in chunks { _ = source.yield(chunk) }
        source.finish()
        return body
    }
}
