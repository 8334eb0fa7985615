import ArgumentParser
import BerthConfig
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

/// The command line (the entry point is `BerthMain`).
struct Berth: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Serve static sites and Swift apps from one virtual-host file.",
        version: Berth.version,
        subcommands: [
            RunCommand.self, DevCommand.self, CheckCommand.self, ReloadCommand.self, StopCommand.self, CACommand.self, VersionCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )
}

/// The `--config` option shared by the commands that read the virtual-host file.
struct ConfigOption: ParsableArguments {
    @Option(name: [.short, .long], help: "The virtual-host file.")
    var config: String = "conf/berth.yaml"

    /// Loads and validates the file; prints every error (file:line:column) and fails otherwise.
    func load() throws -> ServerConfig {
        do {
            let config = try ConfigurationPlan.read(self.config)
            for warning in config.warnings {
                StandardError.write("berth: warning: \(warning)\n")
            }
            return config
        } catch {
            StandardError.write("\(error)\n")
            let count = error.errors.count
            StandardError.write("berth: \(self.config): \(count) error\(count == 1 ? "" : "s"), nothing started\n")
            throw ExitCode(1)
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version of berth.")

    func run() {
        print("berth \(Berth.version)")
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the virtual-host file without serving (exit 0 when valid, 1 otherwise).",
        discussion: "Checks what a start would: YAML, keys and types, files and directories, host names, port clashes, certificates and keys."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try self.options.load()
        do {
            for warning in try SiteCheck.run(config) {
                StandardError.write("berth: warning: \(warning)\n")
            }
        } catch {
            StandardError.write("\(error)\n")
            throw ExitCode(1)
        }
        print("berth: \(self.options.config): configuration is valid (\(config.hosts.count) hosts, \(config.listeners.count) listeners)")
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve the hosts of the virtual-host file (the default command).",
        discussion: """
            A master process binds the listeners and starts `workers:` worker processes that \
            serve them. SIGHUP (or `berth reload`) re-reads the file and swaps in new workers \
            without refusing a connection; SIGTERM/SIGINT (or `berth stop`) stop gracefully, \
            SIGQUIT at once; SIGUSR1 reopens the log files.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "How long a graceful stop, or an old generation after a reload, waits for in-flight responses (seconds); overrides drain_timeout in the file (default 10s).")
    var drainTimeout: Int?

    func run() async throws {
        let config = try self.options.load()
        ResourceLimits.raiseOpenFileLimit()
        signal(SIGPIPE, SIG_IGN)
        let sink: ErrorLogSink
        do {
            sink = try ErrorLogSink(destination: config.logs.error)
        } catch {
            StandardError.write("berth: \(error)\n")
            throw ExitCode(1)
        }
        LoggingSystem.bootstrap { label in ErrorLogHandler(sink: sink, logLevel: .info, label: label) }
        let logger = Logger(label: "berth")

        let plan: ConfigurationPlan
        switch ConfigurationPlan.complete(file: self.options.config, config: config, logger: logger) {
        case .success(let value):
            plan = value
        case .failure(let failure):
            for error in failure.errors {
                logger.critical("\(error)")
                StandardError.write("berth: \(error)\n")
            }
            throw ExitCode(1)
        }
        let master = Master(configFile: self.options.config, drainTimeoutOverride: self.drainTimeout.map { .seconds($0) }, logger: logger, sink: sink)
        let status = await master.run(plan)
        if status != 0 { throw ExitCode(status) }
    }
}
