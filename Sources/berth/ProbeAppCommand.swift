import ArgumentParser
import BerthPlugins

/// `berth probe-app PATH`: the child process in which the master and `berth check` open an app
/// library before any worker trusts it, so that a library that crashes the loader takes down
/// only this process. Not for people: it prints one machine-readable line (see `AppProbe`).
struct ProbeAppCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-app",
        abstract: "Open an app library in this process and report whether it can be trusted.",
        shouldDisplay: false
    )

    @Argument(help: "The app library (.so) to open.")
    var path: String

    func run() throws {
        let status = AppProbe.run(libraryPath: path)
        if status != 0 { throw ExitCode(status) }
    }
}
