/// What the server gets back for one request: always a response to send, plus what to log.
@_spi(BerthServer)
public struct AppOutcome: Sendable {
    /// The response to send; a 500 when the app failed.
    public var response: Response
    /// The pattern of the route that handled the request (`"GET /notes/:id"`), when the app's
    /// ``Router`` matched one: a bounded label for logs and metrics.
    public var route: String?
    /// Why the app failed, for the error log; nil when it answered (even with a 4xx it chose).
    public var error: String?

    /// An outcome from its parts.
    public init(response: Response, route: String? = nil, error: String? = nil) {
        self.response = response
        self.route = route
        self.error = error
    }
}

/// One running instance of an app: the server's handle on the app's lifecycle.
@_spi(BerthServer)
public final class HostedApp: Sendable {
    private let app: any App

    /// The app type's full name, e.g. `NotesApp.NotesApp`.
    public let typeName: String

    /// Creates the app from `context`, then runs its start hook.
    public static func start(_ type: any App.Type, context: AppContext) async throws -> HostedApp {
        let app = try await type.init(context: context)
        try await app.start()
        return HostedApp(app: app, typeName: String(reflecting: type))
    }

    private init(app: any App, typeName: String) {
        self.app = app
        self.typeName = typeName
    }

    /// Asks the app for a response. Never throws: an ``HTTPError`` becomes its status, a body
    /// over the app's limit a 413, cancellation a 503, and a refused header or any other error
    /// a 500 with `error` set. The router writes the route it matched into `note`.
    public func respond(to request: Request, note: RouteNote = RouteNote()) async -> AppOutcome {
        do {
            let response = try await RouteNote.$current.withValue(note) {
                do {
                    return try await app.respond(to: request)
                } catch {
                    guard let answer = ErrorAnswer.response(for: error) else { throw error }
                    return answer
                }
            }
            let refused = response.headers.refusedFields
            guard refused.isEmpty else {
                return AppOutcome(response: Self.internalError, route: note.route,
                                  error: "the app's response was not sent: " + refused.joined(separator: "; "))
            }
            return AppOutcome(response: response, route: note.route, error: note.failure)
        } catch is CancellationError {
            // The server cancelled the request (client gone, drain timeout): not the app's fault.
            return AppOutcome(response: .text("Service Unavailable\n", status: .serviceUnavailable), route: note.route)
        } catch {
            return AppOutcome(response: Self.internalError, route: note.route,
                              error: "\(String(reflecting: Swift.type(of: error))): \(error)")
        }
    }

    /// Runs the app's stop hook; call it once, after the last request finished.
    public func stop() async {
        await app.stop()
    }

    private static let internalError = Response.text("Internal Server Error\n", status: .internalServerError)
}
