import BerthConfig
import BerthProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The virtual-host file, read and validated by `berth read-config` in a child process (see
/// `ConfigFileReport`): the master links no YAML reader.
enum ConfigFile {
    static let reader = OwnExecutable.folder + "berth"

    static func read(_ file: String) throws(ConfigErrors) -> ServerConfig {
        func failure(_ message: String) -> ConfigErrors {
            ConfigErrors(errors: [ConfigError(location: SourceLocation(file: file, line: 1, column: 1), message: message)])
        }
        guard access(reader, X_OK) == 0 else {
            throw failure("cannot run '\(reader)' to read the file: \(String(cString: strerror(errno))); install berth next to berth-master")
        }
        let report: ConfigFileReport
        do {
            report = try ChildReport.run([reader, ConfigFileReport.command, file],
                                         prefix: ConfigFileReport.linePrefix, as: ConfigFileReport.self)
        } catch {
            throw failure("cannot read the file: \(error)")
        }
        if let errors = report.errors { throw errors }
        guard let config = report.config else { throw failure("cannot read the file: the reader returned nothing") }
        return config
    }
}
