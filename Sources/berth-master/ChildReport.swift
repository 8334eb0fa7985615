@_spi(BerthServer) import BerthPlugins
import BerthProcess
import FoundationEssentials

/// Work the master hands to a child process of one of berth's other binaries (reading the
/// virtual-host file, checking sites), which answers with one JSON line after a known prefix.
/// What those need stays out of the master's memory, and a crash there is only the child's.
enum ChildReport {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `arguments` and decodes the last line that starts with `prefix`.
    static func run<Report: Decodable>(
        _ arguments: [String], prefix: String, as type: Report.Type, timeoutSeconds: Int = 60
    ) throws(Failure) -> Report {
        var output: [UInt8] = []
        let termination: ChildProcess.Termination
        do throws(ChildProcess.SpawnError) {
            termination = try ChildProcess.run(arguments, timeoutSeconds: timeoutSeconds) { chunk in
                if output.count < 64 * 1024 * 1024 { output += chunk }
            }
        } catch {
            throw Failure(description: "cannot run \(arguments[0]): \(error.message)")
        }
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        guard case .exited(0) = termination,
              let line = lines.last(where: { $0.hasPrefix(prefix) }),
              let report = try? ConfigJSON.decode(type, from: Data(line.dropFirst(prefix.count).utf8))
        else {
            let said = lines.filter { !$0.hasPrefix(prefix) }.suffix(5).joined(separator: " | ")
            throw Failure(description: "`\(arguments.joined(separator: " "))` gave no answer (\(termination))\(said.isEmpty ? "" : ": " + said)")
        }
        return report
    }
}
