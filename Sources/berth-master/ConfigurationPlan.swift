import BerthConfig
import BerthProcess
import Logging

/// A configuration checked as far as it can be without serving: the file's values, everything
/// `berth check` looks at, the account to run as, and the apps built and probed.
/// A start and every reload go through this; only a complete plan reaches the workers.
struct ConfigurationPlan {
    /// As given on the command line.
    var file: String
    var config: ServerConfig
    /// App name → library, built and probed in a child process.
    var appLibraries: [String: String]
    /// App name → why it cannot be served (the compiler's output), for apps that failed under
    /// `berth dev`; their routes answer 503 with it. Always empty under `berth run`, where such
    /// an app makes the plan fail.
    var unbuiltApps: [String: String] = [:]

    /// Reads and validates the file (in a child process, see `ConfigFile`).
    static func read(_ file: String) throws(ConfigErrors) -> ServerConfig {
        try ConfigFile.read(file)
    }

    /// The checks after parsing. Every problem found is returned, each as one message that
    /// names its place in the file (or the app) where it has one. `rebuilding`: package
    /// folders whose sources changed (see `AppLoading.prepare`).
    static func complete(
        file: String, config: ServerConfig, logger: Logger, mode: ServingMode = .run, rebuilding: Set<String> = []
    ) -> Result<ConfigurationPlan, PlanFailure> {
        do {
            for warning in try SiteCheck.run(config) {
                logger.warning("\(warning)")
            }
        } catch {
            return .failure(PlanFailure(errors: "\(error)".split(separator: "\n").map(String.init)))
        }
        if let runAs = config.runAs, let problem = Privileges.problem(with: runAs) {
            return .failure(PlanFailure(errors: [problem]))
        }
        let prepared = AppLoading.prepare(config, logger: logger, mode: mode, rebuilding: rebuilding)
        guard prepared.errors.isEmpty else { return .failure(PlanFailure(errors: prepared.errors)) }
        return .success(ConfigurationPlan(file: file, config: config, appLibraries: prepared.paths, unbuiltApps: prepared.unbuilt))
    }

    /// `read` and `complete` together, for a reload.
    static func make(file: String, logger: Logger, mode: ServingMode = .run, rebuilding: Set<String> = []) -> Result<ConfigurationPlan, PlanFailure> {
        let config: ServerConfig
        do {
            config = mode.adjust(try read(file))
        } catch {
            return .failure(PlanFailure(errors: error.errors.map(\.description)))
        }
        for warning in config.warnings { logger.warning("\(warning)") }
        return complete(file: file, config: config, logger: logger, mode: mode, rebuilding: rebuilding)
    }
}

struct PlanFailure: Error {
    var errors: [String]
}
