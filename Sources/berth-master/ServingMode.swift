import BerthConfig

/// How the master serves a virtual-host file: `berth run`, for production, or `berth dev`, the
/// loop a developer leaves running.
///
/// The differences are few and all here or decided by this value: under `dev` the logs go to
/// the terminal, changes to the files are watched and reloaded (`MasterDevLoop.swift`), and an
/// app that does not build answers 503 with the compiler's output instead of keeping the whole
/// configuration from being served.
enum ServingMode: Sendable {
    case run
    case dev

    /// The configuration as this mode serves it. Under `dev` the error log is the terminal's
    /// standard error whatever the file says, and the access log, when the file leaves it
    /// off, standard output: the developer watches both in the one terminal.
    func adjust(_ config: ServerConfig) -> ServerConfig {
        guard self == .dev else { return config }
        var config = config
        config.logs.error = .standardError
        if config.logs.access == .off { config.logs.access = .standardOutput }
        return config
    }
}
