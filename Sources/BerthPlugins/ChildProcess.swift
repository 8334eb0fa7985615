import CBerthSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs another program with `posix_spawn` and collects what it prints.
///
/// `posix_spawn` rather than `fork`: the server is multi-threaded, and only exec-ing at once is
/// safe there. The child gets no descriptor of the server's but its own stdout and stderr (both
/// one pipe), `/dev/null` as stdin, and default signal dispositions, since the server ignores
/// SIGPIPE and a probe or build should not inherit that.
package enum ChildProcess {
    /// How the child ended.
    package enum Termination: Equatable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal killed it.
        case signaled(Int32)
        /// It ran longer than allowed and was killed.
        case timedOut

        package var description: String {
            switch self {
            case .exited(let status): return "exit status \(status)"
            case .signaled(let signal): return "killed by signal \(signal)"
            case .timedOut: return "timed out"
            }
        }
    }

    package struct SpawnError: Error {
        package let message: String
    }

    /// Runs `arguments` (the first is the program; without a `/` it is looked up in PATH)
    /// with the server's environment plus `environment`, handing each chunk of output to
    /// `onOutput`, and waits for it to end.
    package static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        timeoutSeconds: Int? = nil,
        onOutput: ([UInt8]) -> Void
    ) throws(SpawnError) -> Termination {
        precondition(!arguments.isEmpty, "a child process needs a program")
        var pipeEnds: [Int32] = [-1, -1]
        guard cberth_pipe_cloexec(&pipeEnds) == 0 else {
            throw SpawnError(message: "pipe: \(LibraryFileCheck.errorText())")
        }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        // Descriptors the server opened without close-on-exec (a listener, a log) stay out of
        // a probe or build.
        _ = cberth_spawn_close_from(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        cberth_spawnattr_reset_signals(&attributes, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = mergedEnvironment(environment)
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            throw SpawnError(message: "\(arguments[0]): \(LibraryFileCheck.errorText(spawned))")
        }

        let deadline = timeoutSeconds.map { monotonicSeconds() + Double($0) }
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        reading: while true {
            if let deadline {
                let remaining = deadline - monotonicSeconds()
                var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, Int32(max(0, min(remaining, 60)) * 1000))
                if ready == 0 {
                    if remaining <= 0 { timedOut = true; break reading }
                    continue
                }
                if ready < 0 && errno == EINTR { continue }
            }
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                onOutput(Array(buffer[0..<count]))
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(readEnd)
        if timedOut { kill(pid, SIGKILL) }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut { return .timedOut }
        // The W* macros are not importable; this is their glibc definition.
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    /// `environ` with `overrides` replacing or adding variables, as C strings ending in nil.
    private static func mergedEnvironment(_ overrides: [String: String]) -> [UnsafeMutablePointer<CChar>?] {
        var entries: [UnsafeMutablePointer<CChar>?] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            let name = text.prefix { $0 != "=" }
            if overrides[String(name)] == nil { entries.append(strdup(entry)) }
            cursor += 1
        }
        for (name, value) in overrides { entries.append(strdup("\(name)=\(value)")) }
        return entries + [nil]
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

