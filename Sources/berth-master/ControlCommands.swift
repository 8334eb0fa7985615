import ArgumentParser
import BerthConfig
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The master's process id in a file, so `berth reload` and `berth stop` (and scripts) can
/// find it.
struct PidFile {
    let path: String

    /// Writes this process's id. Refuses when the file names another berth that is alive,
    /// since two masters on one configuration would fight over its ports and logs.
    static func claim(_ path: String) throws -> PidFile {
        if let other = read(path), other != getpid(), isBerth(other) {
            throw CLIError("berth is already running as PID \(other) (pid file '\(path)'); "
                           + "stop it with 'berth stop', or reload it with 'berth reload'")
        }
        // Written whole under another name, then renamed: a reader never sees half a number.
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data("\(getpid())\n".utf8)),
              rename(temporary, path) == 0
        else {
            unlink(temporary)
            throw CLIError("cannot write pid file '\(path)': \(String(cString: strerror(errno))); "
                           + "set 'pid_file:' to a writable path, or 'pid_file: off'")
        }
        return PidFile(path: path)
    }

    /// Removes the file if it still names this process (a newer master may have taken over).
    func remove() {
        if Self.read(self.path) == getpid() { unlink(self.path) }
    }

    static func read(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let words = text.split(whereSeparator: \.isWhitespace)
        return words.count == 1 ? pid_t(words[0]) : nil
    }

    /// Whether `pid` is alive and a berth process (pids are reused after a crash).
    static func isBerth(_ pid: pid_t) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let program = data.split(separator: 0).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return (program.split(separator: "/").last ?? "").contains("berth")
    }
}

/// `--config` or `--pid-file`: how `reload` and `stop` find the master.
struct MasterOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "The virtual-host file the server was started with (its pid_file: names the pid file).")
    var config: String = "conf/berth.yaml"

    @Option(help: "The pid file to read instead of the one the virtual-host file names.")
    var pidFile: String?

    /// The master's pid. `strict`: a virtual-host file with errors is refused (reload would
    /// be refused too); otherwise its default pid file location is tried.
    func masterPID(strict: Bool) throws -> pid_t {
        let path: String
        if let pidFile = self.pidFile {
            path = pidFile
        } else {
            do {
                let loaded = try ConfigFile.read(self.config)
                guard let configured = loaded.pidFilePath else {
                    throw CLIError("\(self.config) has 'pid_file: off'; pass --pid-file, or signal the master directly")
                }
                path = configured
            } catch let errors as ConfigErrors {
                if strict {
                    StandardError.write("\(errors)\n")
                    let count = errors.errors.count
                    throw CLIError("\(self.config): \(count) error\(count == 1 ? "" : "s"); nothing reloaded, the server keeps its current configuration")
                }
                path = URL(fileURLWithPath: self.config).standardizedFileURL.deletingLastPathComponent().appendingPathComponent("berth.pid").path
                StandardError.write("berth: warning: \(self.config) has errors; trying the default pid file '\(path)'\n")
            }
        }
        guard let pid = PidFile.read(path) else {
            throw CLIError("no pid file at '\(path)': is berth running with this configuration?")
        }
        guard PidFile.isBerth(pid) else {
            throw CLIError("pid file '\(path)' names PID \(pid), which is not a running berth")
        }
        return pid
    }
}

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running server re-read its virtual-host file (like SIGHUP).",
        discussion: """
            The file is checked here first: with errors, they are printed and nothing is sent. \
            The server then validates everything again (apps included), starts new workers, and \
            retires the old ones once the new ones are ready; if anything fails, it keeps serving \
            the current configuration and logs why.
            """
    )

    @OptionGroup var options: MasterOptions

    func run() throws {
        do {
            let pid = try self.options.masterPID(strict: true)
            guard kill(pid, SIGHUP) == 0 else { throw CLIError("cannot signal PID \(pid): \(String(cString: strerror(errno)))") }
            print("berth: asked the server (PID \(pid)) to reload; its error log has the outcome")
        } catch let error as CLIError {
            StandardError.write("berth: \(error)\n")
            throw ExitCode(1)
        }
    }
}

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the running server gracefully (like SIGTERM) and wait until it has exited.",
        discussion: "In-flight responses finish first, within drain_timeout (or the server's --drain-timeout); --now skips that (SIGQUIT)."
    )

    @OptionGroup var options: MasterOptions

    @Flag(help: "Stop at once, cutting in-flight responses (SIGQUIT).")
    var now = false

    @Option(help: "Seconds to wait for the server to exit.")
    var timeout: Int = 120

    func run() throws {
        do {
            let pid = try self.options.masterPID(strict: false)
            guard kill(pid, self.now ? SIGQUIT : SIGTERM) == 0 else {
                throw CLIError("cannot signal PID \(pid): \(String(cString: strerror(errno)))")
            }
            let deadline = Date().addingTimeInterval(TimeInterval(self.timeout))
            // The master is not our child: there is nothing to wait on but its existence.
            while PidFile.isBerth(pid) && Date() < deadline { usleep(20_000) }
            if PidFile.isBerth(pid) { throw CLIError("PID \(pid) is still running after \(self.timeout)s") }
            print("berth: stopped (PID \(pid))")
        } catch let error as CLIError {
            StandardError.write("berth: \(error)\n")
            throw ExitCode(1)
        }
    }
}
