import BerthConfig
import BerthServer
import Foundation
import Logging

/// A configuration checked as far as it can be without serving: the file's text and values,
/// everything `berth check` looks at, the account to run as, and the apps built and probed.
/// A start and every reload go through this; only a complete plan reaches the workers.
struct ConfigurationPlan {
    /// As given on the command line.
    var file: String
    var text: String
    var config: ServerConfig
    /// App name → library, built and probed in a child process.
    var appLibraries: [String: String]

    /// Reads the file once: the text that is validated is the text the workers get.
    static func read(_ file: String) throws(ConfigErrors) -> (ServerConfig, String) {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            // Missing, a folder, unreadable or not UTF-8: the loader words each case.
            let config = try ConfigLoader.load(file: file)
            return (config, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
        }
        return (try ConfigLoader.parse(yaml: text, file: file), text)
    }

    /// The checks after parsing. Every problem found is returned, each as one message that
    /// names its place in the file (or the app) where it has one.
    static func complete(file: String, config: ServerConfig, text: String, logger: Logger) -> Result<ConfigurationPlan, PlanFailure> {
        var quiet = Logger(label: "berth.check") { _ in SwiftLogNoOpLogHandler() }
        quiet.logLevel = .critical
        do {
            for warning in try Server.check(config: config, logger: quiet) {
                logger.warning("\(warning)")
            }
        } catch {
            return .failure(PlanFailure(errors: "\(error)".split(separator: "\n").map(String.init)))
        }
        if let runAs = config.runAs, let problem = Privileges.problem(with: runAs) {
            return .failure(PlanFailure(errors: [problem]))
        }
        let prepared = AppLoading.prepare(config, logger: logger)
        guard prepared.errors.isEmpty else { return .failure(PlanFailure(errors: prepared.errors)) }
        return .success(ConfigurationPlan(file: file, text: text, config: config, appLibraries: prepared.paths))
    }

    /// `read` and `complete` together, for a reload.
    static func make(file: String, logger: Logger) -> Result<ConfigurationPlan, PlanFailure> {
        let config: ServerConfig
        let text: String
        do {
            (config, text) = try read(file)
        } catch {
            return .failure(PlanFailure(errors: error.errors.map(\.description)))
        }
        for warning in config.warnings { logger.warning("\(warning)") }
        return complete(file: file, config: config, text: text, logger: logger)
    }
}

struct PlanFailure: Error {
    var errors: [String]
}
