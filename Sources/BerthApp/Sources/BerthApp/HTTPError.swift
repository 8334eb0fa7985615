/// An error that is an answer: throw it from a handler to reply with `status` and a short
/// plain-text `message`, without the server logging it as an app failure.
///
/// ```swift
/// guard let note = store.note(id) else { throw HTTPError(.notFound, "no note \(id)") }
/// ```
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The status of the response.
    public let status: Response.Status
    /// The body of the response; the status's reason phrase when empty.
    public let message: String

    /// An error answered with `status` and `message`.
    public init(_ status: Response.Status, _ message: String = "") {
        self.status = status
        self.message = message
    }

    /// `"404 Not Found: no note 7"`.
    public var description: String {
        message.isEmpty ? "\(status)" : "\(status): \(message)"
    }
}

/// Why reading a ``RequestBody`` failed.
public enum RequestBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is longer than the limit passed to ``RequestBody/collect(upTo:)``; answered with
    /// 413 Content Too Large when the app lets it propagate.
    case tooLarge(limit: Int)
    /// The body was already read by another iterator.
    case alreadyRead

    /// A sentence for logs.
    public var description: String {
        switch self {
        case .tooLarge(let limit): return "the request body is larger than \(limit) bytes"
        case .alreadyRead: return "the request body was already read"
        }
    }
}
