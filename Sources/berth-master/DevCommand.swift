import ArgumentParser
import BerthConfig
import BerthProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Synchronization

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Serve like `run`, in the foreground with logs on the terminal, and reload on every change.",
        discussion: """
            Watches the virtual-host file (and the error pages and certificates it names), the \
            static roots, and each app package's Package.swift and Sources. A changed file \
            reloads (errors are printed, the running configuration keeps serving); changed app \
            sources rebuild that app first. An app that does not build answers 503 with the \
            compiler's output until its next good build; everything else keeps serving. Files \
            under a static root are served from disk and need no reload. A file that cannot be \
            served at start is waited on: its errors are printed, and it is tried again when saved.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "How long an old generation waits for in-flight responses after a reload (seconds); overrides drain_timeout in the file.")
    var drainTimeout: Int?

    func run() async throws {
        ResourceLimits.raiseOpenFileLimit()
        signal(SIGPIPE, SIG_IGN)
        // The terminal, whatever the file says (see `ServingMode.adjust`).
        let sink = try ErrorLogSink(destination: .standardError)
        LoggingSystem.bootstrap { label in ErrorLogHandler(sink: sink, logLevel: .info, label: label) }
        let logger = Logger(label: "berth")

        var saves: FileSaves?
        while true {
            if let plan = self.plan(logger: logger) {
                let master = Master(
                    configFile: self.options.config, mode: .dev, drainTimeoutOverride: self.drainTimeout.map { .seconds($0) },
                    logger: logger, sink: sink)
                let status = await master.run(plan)
                if status != 0 { throw ExitCode(status) }
                return
            }
            if saves == nil { saves = try FileSaves(ConfigPath.absolute(self.options.config)) }
            logger.notice("waiting for the file to be saved again", metadata: ["config.file": "\(self.options.config)"])
            await saves?.next()
        }
    }

    /// The file read and checked for a start, or nil when it cannot be served (its errors
    /// printed).
    private func plan(logger: Logger) -> ConfigurationPlan? {
        // `load` prints each error as file:line:column.
        guard let config = try? self.options.load() else { return nil }
        switch ConfigurationPlan.complete(file: self.options.config, config: ServingMode.dev.adjust(config), logger: logger, mode: .dev) {
        case .success(let plan):
            return plan
        case .failure(let failure):
            for error in failure.errors { logger.error("\(error)") }
            return nil
        }
    }
}

/// Saves of the virtual-host file, awaited while `berth dev` has nothing it can serve yet.
/// One save is often several events (a temporary file renamed over the old one): after the
/// first, those of the next quarter second count as the same save.
final class FileSaves: Sendable {
    private let inbox = Inbox()
    private let watcher: FileWatcher<Bool>

    init(_ file: String) throws {
        let inbox = self.inbox
        self.watcher = try FileWatcher<Bool> { _, _ in inbox.post() }
        self.watcher.watch([.entry(path: file, meaning: true)])
    }

    /// Returns after the next save, once its burst of events is over.
    func next() async {
        await withCheckedContinuation { self.inbox.wait($0) }
        try? await Task.sleep(for: .milliseconds(250))
        self.inbox.forget()
    }

    /// A save seen, or the one waiting for it.
    private final class Inbox: Sendable {
        private struct State {
            var saved = false
            var waiter: CheckedContinuation<Void, Never>?
        }

        private let state = Mutex(State())

        func post() {
            let waiter = self.state.withLock { state in
                defer { state.waiter = nil }
                if state.waiter == nil { state.saved = true }
                return state.waiter
            }
            waiter?.resume()
        }

        func wait(_ continuation: CheckedContinuation<Void, Never>) {
            let saved = self.state.withLock { state in
                defer { state.saved = false }
                if !state.saved { state.waiter = continuation }
                return state.saved
            }
            if saved { continuation.resume() }
        }

        func forget() {
            self.state.withLock { $0.saved = false }
        }
    }
}
