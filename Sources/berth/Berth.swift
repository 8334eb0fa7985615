import ArgumentParser
import BerthConfig
import BerthServer
import Foundation
import Logging

@main
struct Berth: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Serve static sites and Swift apps from one virtual-host file.",
        version: Berth.version,
        subcommands: [RunCommand.self, CheckCommand.self, VersionCommand.self, ProbeAppCommand.self],
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
            let config = try ConfigLoader.load(file: self.config)
            for warning in config.warnings {
                FileHandle.standardError.write(Data("berth: warning: \(warning)\n".utf8))
            }
            return config
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            let count = error.errors.count
            FileHandle.standardError.write(Data("berth: \(self.config): \(count) error\(count == 1 ? "" : "s"), nothing started\n".utf8))
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
        var logger = Logger(label: "berth") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        do {
            for warning in try Server.check(config: config, logger: logger) {
                FileHandle.standardError.write(Data("berth: warning: \(warning)\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        print("berth: \(self.options.config): configuration is valid (\(config.hosts.count) hosts, \(config.listeners.count) listeners)")
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve the hosts of the virtual-host file (the default command)."
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "How long a graceful stop waits for in-flight responses.")
    var drainTimeout: Int = 10

    func run() async throws {
        let config = try self.options.load()
        ResourceLimits.raiseOpenFileLimit()
        let sink: ErrorLogSink
        do {
            sink = try ErrorLogSink(destination: config.logs.error)
        } catch {
            FileHandle.standardError.write(Data("berth: \(error)\n".utf8))
            throw ExitCode(1)
        }
        LoggingSystem.bootstrap { label in ErrorLogHandler(sink: sink, logLevel: .info, label: label) }
        let logger = Logger(label: "berth")

        let prepared = AppLoading.prepare(config, logger: logger)
        guard prepared.errors.isEmpty else {
            for error in prepared.errors {
                logger.critical("\(error)")
                FileHandle.standardError.write(Data("berth: \(error)\n".utf8))
            }
            throw ExitCode(1)
        }

        let server: Server
        let bound: [Server.BoundListener]
        let apps: [String: AppEndpoint]
        do {
            apps = try await AppLoading.start(config, paths: prepared.paths, logger: logger)
            server = try Server(config: config, apps: apps, logger: logger)
            bound = try await server.start()
        } catch {
            logger.critical("cannot start: \(error)")
            FileHandle.standardError.write(Data("berth: \(error)\n".utf8))
            throw ExitCode(1)
        }
        logger.notice(
            "listening",
            metadata: [
                "server.listeners": "\(bound.map(\.description).joined(separator: " "))",
                "server.hosts": "\(config.hosts.count)",
                "server.pid": "\(getpid())",
            ])

        let stopRequested = SignalWatcher.stopRequests(logReopen: {
            do { try sink.reopen() } catch { logger.error("cannot reopen error log", metadata: ["error": "\(error)"]) }
            server.reopenLogs()
        }, logger: logger)
        await stopRequested.wait()
        logger.notice("stopping", metadata: ["server.open_connections": "\(server.openConnections)"])
        await server.stop(drainTimeout: .seconds(self.drainTimeout))
        await AppLoading.stop(apps)
        logger.notice("stopped")
    }
}
