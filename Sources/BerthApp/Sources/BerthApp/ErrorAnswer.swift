/// The errors that are answers rather than failures, and the responses they stand for: one
/// place, used where the server turns an app's error into a response and where a middleware's
/// `next` does (see ``Middleware``).
enum ErrorAnswer {
    /// The response `error` stands for, or nil when it is a failure (a 500 and a log line) or a
    /// cancellation. An ``HTTPError`` of 500 or more is noted in `note`, for the error log.
    static func response(for error: any Error, note: RouteNote?) -> Response? {
        switch error {
        case let error as HTTPError:
            if error.status.code >= 500 { note?.failure = error.description }
            let body = error.message.isEmpty ? error.status.reasonPhrase : error.message
            return .text(body + "\n", status: error.status)
        case RequestBodyError.tooLarge(let limit):
            return .text("Content Too Large: at most \(limit) bytes\n", status: .contentTooLarge)
        default:
            return nil
        }
    }
}
