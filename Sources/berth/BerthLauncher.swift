import BerthConfig
import BerthConfigFile
import BerthProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `berth`, the front door. Every command (`run`, `check`, `reload`, `stop`, `version`) is the
/// master's: this process becomes `berth-master`, installed next to it, keeping the
/// arguments. The one thing done here is reading the virtual-host file for the master
/// (`berth read-config FILE`, see `ConfigFileReport`), since this binary carries the YAML reader.
@main
enum BerthLauncher {
    static let master = "berth-master"

    static func main() {
        if CommandLine.arguments.count == 3, CommandLine.arguments[1] == ConfigFileReport.command {
            exit(readConfig(CommandLine.arguments[2]))
        }
        let path = OwnExecutable.folder + master
        let argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) } + [nil]
        execv(path, argv)
        let message = "berth: cannot run \(path): \(String(cString: strerror(errno))); install \(master) next to berth\n"
        Descriptor.writeAll(STDERR_FILENO, Array(message.utf8))
        exit(127)
    }

    /// Prints the report on `file` as one line; the exit status is 0 whenever a report was written.
    static func readConfig(_ file: String) -> Int32 {
        let report: ConfigFileReport
        do {
            report = ConfigFileReport(config: try ConfigLoader.load(file: file), errors: nil)
        } catch {
            report = ConfigFileReport(config: nil, errors: error)
        }
        guard let json = try? ConfigJSON.encode(report) else { return 1 }
        let written = Descriptor.writeAll(STDOUT_FILENO, Array(ConfigFileReport.linePrefix.utf8) + Array(json) + [UInt8(ascii: "\n")])
        return written ? 0 : 1
    }
}
