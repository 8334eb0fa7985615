@_spi(BerthServer) import BerthApp
import BerthPlugins
import Synchronization

/// An app library loaded into a worker, and the one instance of the app it runs.
///
/// Load only a path that ``AppLibrary/prepare(name:source:probe:probeTimeoutSeconds:swift:buildLog:)``
/// returned: the checks are repeated here, but a library that crashes `dlopen` would take the
/// worker down before they could run.
public final class LoadedApp: @unchecked Sendable {
    /// The app's name in the virtual-host file.
    public let name: String
    /// The library it was loaded from.
    public let libraryPath: String
    /// The app type's full name, e.g. `NotesApp.NotesApp`.
    public let typeName: String

    private let appType: any App.Type
    private let state = Mutex<State>(.loaded)
    /// The app once `start` succeeded. Written once, before `isRunning` is first set (a
    /// releasing store), and read only after `isRunning` was seen set (an acquiring load): the
    /// request path pays two plain loads for it, not the lock that orders the transitions nor
    /// a generic atomic reference (hence `@unchecked Sendable`).
    nonisolated(unsafe) private var hosted: HostedApp?
    private let isRunning = Atomic<Bool>(false)

    private enum State {
        case loaded
        case starting
        case running
        case stopped
    }

    private init(name: String, libraryPath: String, appType: any App.Type) {
        self.name = name
        self.libraryPath = libraryPath
        self.appType = appType
        self.typeName = String(reflecting: appType)
    }

    /// Opens the library (never to be closed) and checks its stamp and API identity.
    public static func load(name: String, libraryPath: String) throws(AppLoadError) -> LoadedApp {
        if let problem = LibraryFileCheck.problem(at: libraryPath) {
            throw AppLoadError(app: name, file: libraryPath, reason: problem)
        }
        switch AppImage.open(libraryPath, keepLoaded: true) {
        case .success(let image):
            return LoadedApp(name: name, libraryPath: libraryPath, appType: image.appType)
        case .failure(let refusal):
            throw AppLoadError(app: name, file: libraryPath, reason: refusal.reason)
        }
    }

    /// Creates the app from `context` and runs its start hook; call once per worker. Throws
    /// what the app's `init` or `start` threw, or ``AppStartError`` when called twice.
    public func start(context: AppContext) async throws {
        try state.withLock { state in
            guard case .loaded = state else { throw AppStartError(app: name, message: "it was already started") }
            state = .starting
        }
        do {
            let hosted = try await HostedApp.start(appType, context: context)
            state.withLock { state in
                // `.starting` only once: this is the one write of `hosted`.
                self.hosted = hosted
                state = .running
                isRunning.store(true, ordering: .releasing)
            }
        } catch {
            state.withLock { $0 = .loaded }
            throw error
        }
    }

    /// Asks the app for a response; never throws (see `AppOutcome`). Before `start` finished
    /// or after `stop`, the answer is 503. The app's router writes the route it matched into
    /// `note`; `routed` is what ``firstStep(for:note:)`` found for this request.
    @_spi(BerthServer)
    public func respond(to request: Request, note: RouteNote = RouteNote(), routed: Router.Routed? = nil) async -> AppOutcome {
        guard let running else {
            return AppOutcome(response: .text("Service Unavailable\n", status: .serviceUnavailable),
                              error: "app \(name) is not running")
        }
        return await running.respond(to: request, note: note, routed: routed)
    }

    /// What the app can do for `request` without a task (see `HostedApp.firstStep`); while it
    /// is not running, nothing (``respond(to:note:routed:)`` answers 503).
    @_spi(BerthServer)
    public func firstStep(for request: Request, note: RouteNote) -> HostedApp.FirstStep {
        running?.firstStep(for: request, note: note) ?? .needsTask
    }

    private var running: HostedApp? {
        guard isRunning.load(ordering: .acquiring) else { return nil }
        return hosted
    }

    /// Runs the app's stop hook once; later requests get 503. The library stays loaded.
    public func stop() async {
        let wasRunning = state.withLock { state in
            defer { state = .stopped }
            isRunning.store(false, ordering: .releasing)
            return state == .running
        }
        let running = wasRunning ? hosted : nil
        await running?.stop()
    }
}

/// An app could not be started for a reason of the server's, not the app's.
public struct AppStartError: Error, Sendable, CustomStringConvertible {
    /// The app's name.
    public let app: String
    /// What went wrong.
    public let message: String

    /// `app notes cannot start: <message>`.
    public var description: String { "app \(app) cannot start: \(message)" }
}
