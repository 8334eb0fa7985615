import BerthConfig

/// What `berth read-config FILE` prints: the file read and validated, or every error in it.
///
/// The YAML reader (and the Foundation it needs) lives in the `berth` binary, not in the
/// master: the master asks for each reading in a child process, so it maps none of that for
/// the rest of its life, and a reader that crashes on some input takes down only the child.
package struct ConfigFileReport: Codable {
    package var config: ServerConfig?
    package var errors: ConfigErrors?

    package init(config: ServerConfig?, errors: ConfigErrors?) {
        self.config = config
        self.errors = errors
    }

    package static let command = "read-config"
    /// The report's line starts with this; anything else the child prints is not the report.
    package static let linePrefix = "berth-config: "
}
