import CBerthSystem
import BerthConfig
import BerthMetrics
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the master hands a worker it starts, as one JSON line on the control descriptor.
///
/// The worker gets the configuration the master validated, not the file's path: the file may
/// have been edited since, and a replacement worker must serve its generation's
/// configuration, not whatever the file says now. It comes parsed, so a worker carries no
/// YAML reader (nor the Foundation it needs).
package struct WorkerBrief: Codable {
    package var generation: Int
    package var slot: Int
    /// The file name as given on the command line, for messages and relative paths.
    package var configFile: String
    package var config: ServerConfig
    /// App name → the library the master built and probed.
    package var appLibraries: [String: String]
    /// App name → why it is not there (the compiler's output), for apps whose build failed
    /// under `berth dev`: their routes answer 503 with it. Always empty under `berth run`.
    package var unbuiltApps: [String: String]
    package var drainTimeoutSeconds: Double
    /// Send request counters to the master every second (the admin endpoint is on).
    package var reportsMetrics: Bool

    package init(generation: Int, slot: Int, configFile: String, config: ServerConfig,
                 appLibraries: [String: String], unbuiltApps: [String: String] = [:], drainTimeoutSeconds: Double, reportsMetrics: Bool) {
        self.generation = generation
        self.slot = slot
        self.configFile = configFile
        self.config = config
        self.appLibraries = appLibraries
        self.unbuiltApps = unbuiltApps
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.reportsMetrics = reportsMetrics
    }
}

/// The descriptors a worker inherits. The listeners follow systemd's socket-activation
/// habit: consecutive numbers from a fixed start, named in the environment.
package enum WorkerDescriptors {
    /// Master → worker: the brief, then nothing. End of file means the master is gone.
    package static let control: Int32 = 3
    /// Worker → master: `WorkerReport` lines.
    package static let status: Int32 = 4
    package static let firstListener: Int32 = 5
    /// Comma-separated descriptors, one per `listen:` entry of the brief's configuration, in
    /// file order: "5,6" means listener 0 is descriptor 5 and listener 1 descriptor 6.
    package static let listenEnvironment = "BERTH_LISTEN_FDS"

    /// The listeners this process inherited, or nil when it was not started by a master.
    package static func inheritedListeners() -> [Int32]? {
        guard let value = getenv(listenEnvironment) else { return nil }
        let text = String(cString: value)
        if text.isEmpty { return [] }
        let fds = text.split(separator: ",").compactMap { Int32($0) }
        return fds.count == text.split(separator: ",").count ? fds : nil
    }
}

/// What a worker reports on its status descriptor, one line each.
package enum WorkerReport {
    /// Listening and apps started: the worker can take the master's traffic.
    case ready
    /// Could not start; the text says why. The worker exits next.
    case failed(String)
    /// Told to stop, it no longer accepts connections (and finishes the ones it has).
    case draining
    /// Counters so far (cumulative) and the connections open now.
    case metrics(WorkerMetrics)

    package init?(line: Substring) {
        if line == "ready" {
            self = .ready
        } else if line == "draining" {
            self = .draining
        } else if line.hasPrefix("failed ") {
            self = .failed(String(line.dropFirst(7)).replacing("\\n", with: "\n"))
        } else if line.hasPrefix("metrics "),
                  let metrics = try? JSONDecoder().decode(WorkerMetrics.self, from: Data(line.dropFirst(8).utf8)) {
            self = .metrics(metrics)
        } else {
            return nil
        }
    }

    package var line: String {
        switch self {
        case .ready: return "ready\n"
        case .draining: return "draining\n"
        case .failed(let message): return "failed \(message.replacing("\n", with: "\\n"))\n"
        case .metrics(let metrics):
            let json = (try? JSONEncoder().encode(metrics)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "metrics \(json)\n"
        }
    }
}

package struct WorkerMetrics: Codable {
    package var requests: RequestMetricsSnapshot
    package var openConnections: Int
    /// Of those, the connections that switched to WebSocket.
    package var openWebSockets: Int

    package init(requests: RequestMetricsSnapshot, openConnections: Int, openWebSockets: Int = 0) {
        self.requests = requests
        self.openConnections = openConnections
        self.openWebSockets = openWebSockets
    }
}

/// Descriptor helpers shared by the master and its workers.
package enum Descriptor {
    /// Writes all of `bytes`, retrying after signals and short writes. False on error.
    @discardableResult
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    package static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    package static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// `pipe2(O_CLOEXEC)`: both ends close on exec from the start, so a child another thread
    /// spawns meanwhile (an app build, a probe) cannot inherit them.
    package static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        let result = cberth_pipe_cloexec(&ends)
        guard result == 0 else { throw CLIError("pipe: \(String(cString: strerror(errno)))") }
        return (ends[0], ends[1])
    }
}


extension WorkerBrief {
    /// One JSON line.
    package func line() throws -> [UInt8] {
        Array(try ConfigJSON.encode(self)) + [UInt8(ascii: "\n")]
    }

    package static func decode(line: some Collection<UInt8>) -> WorkerBrief? {
        try? ConfigJSON.decode(WorkerBrief.self, from: Data(line))
    }
}

/// JSON as berth's processes hand configurations to each other. An app setting may be an
/// infinity (`1e400` overflows to one), which plain JSON cannot carry.
package enum ConfigJSON {
    package static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: infinity, negativeInfinity: "-" + infinity, nan: nan)
        return try encoder.encode(value)
    }

    package static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: infinity, negativeInfinity: "-" + infinity, nan: nan)
        return try decoder.decode(type, from: data)
    }

    private static let infinity = "inf"
    private static let nan = "nan"
}
