import BerthConfig
@_spi(BerthServer) import BerthPlugins
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

/// Readies the apps of a configuration for workers: builds stale packages and checks every
/// library in a child process. The master never loads an app itself.
enum AppLoading {
    /// What readying a configuration's apps came to.
    struct Outcome {
        /// App name → the library to load.
        var paths: [String: String] = [:]
        /// Refusals that keep the configuration from being served (`berth run`).
        var errors: [String] = []
        /// App name → why it cannot be served, for apps that failed under `berth dev`: their
        /// routes answer 503 with it while the rest of the configuration is served.
        var unbuilt: [String: String] = [:]
    }

    static func source(of app: AppConfig) -> BerthPlugins.AppSource {
        switch app.source {
        case .package(let directory, let product): return .package(directory: directory, product: product)
        case .library(let path): return .library(path: path)
        }
    }

    /// Builds and checks every app; collects every refusal instead of stopping at the first.
    /// `rebuilding`: package folders whose sources changed, built even when their library looks
    /// up to date.
    static func prepare(_ config: ServerConfig, logger: Logger, mode: ServingMode = .run, rebuilding: Set<String> = []) -> Outcome {
        var outcome = Outcome()
        for app in config.apps {
            let build = BuildOutput(app: app.name, mode: mode, logger: logger)
            var forced = false
            if case .package(let directory, _) = app.source { forced = rebuilding.contains(directory) }
            do {
                outcome.paths[app.name] = try AppLibrary.prepare(
                    name: app.name, source: self.source(of: app), probe: WorkerBinary.probe, forceBuild: forced,
                    buildLog: { line in build.take(line) })
                build.succeeded()
            } catch {
                guard mode == .dev else {
                    outcome.errors.append("\(app.location): \(error)")
                    continue
                }
                outcome.unbuilt[app.name] = build.failed(error, location: app.location)
            }
        }
        return outcome
    }
}

/// A build's output as it runs: logged line by line at debug level under `berth run`; under
/// `berth dev` announced, timed, and on failure printed to the terminal and kept for the 503
/// page.
private final class BuildOutput {
    let app: String
    let mode: ServingMode
    let logger: Logger
    private var lines: [String] = []
    /// When readying the app began: the build's time counts from there (SwiftPM prints its
    /// first line only after reading the manifest).
    private let began = Master.now()

    init(app: String, mode: ServingMode, logger: Logger) {
        self.app = app
        self.mode = mode
        self.logger = logger
    }

    func take(_ line: String) {
        if self.lines.isEmpty && self.mode == .dev {
            self.logger.notice("building app", metadata: ["app.name": "\(self.app)"])
        }
        self.logger.debug("\(line)", metadata: ["app.name": "\(self.app)"])
        self.lines.append(line)
    }

    /// Under `berth dev`, how long the build and the probe took, when there was a build.
    func succeeded() {
        guard self.mode == .dev, !self.lines.isEmpty else { return }
        let tenths = ((Master.now() - self.began) * 10).rounded()
        self.logger.notice("app built and probed", metadata: ["app.name": "\(self.app)", "app.seconds": "\(tenths / 10)"])
    }

    /// Prints why the app cannot be served and returns it, for the app's 503 page: the
    /// compiler's diagnostics when `swift build` failed, else the refusal.
    func failed(_ error: any Error, location: SourceLocation) -> String {
        let reason: String
        if let error = error as? AppLoadError, case .buildFailed(let how, _) = error.reason {
            let diagnostics = CompilerOutput.diagnostics(self.lines)
            reason = "swift build failed (\(how)) in \(error.file):\n\n" + diagnostics.joined(separator: "\n")
        } else {
            reason = "\(location): \(error)"
        }
        self.logger.error("app cannot be served; its routes answer 503 until its next good build", metadata: ["app.name": "\(self.app)"])
        StandardError.write(reason + "\n")
        return reason
    }
}
