import ArgumentParser
import BerthConfig
import BerthProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

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
            under a static root are served from disk and need no reload.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "How long an old generation waits for in-flight responses after a reload (seconds); overrides drain_timeout in the file.")
    var drainTimeout: Int?

    func run() async throws {
        let config = ServingMode.dev.adjust(try self.options.load())
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
        switch ConfigurationPlan.complete(file: self.options.config, config: config, logger: logger, mode: .dev) {
        case .success(let value):
            plan = value
        case .failure(let failure):
            for error in failure.errors { logger.critical("\(error)") }
            throw ExitCode(1)
        }
        let master = Master(
            configFile: self.options.config, mode: .dev, drainTimeoutOverride: self.drainTimeout.map { .seconds($0) },
            logger: logger, sink: sink)
        let status = await master.run(plan)
        if status != 0 { throw ExitCode(status) }
    }
}
