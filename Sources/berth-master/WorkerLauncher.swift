import CBerthSystem
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts a worker (`berth-worker`, see `WorkerBinary`) with the listening sockets, a control
/// pipe and a status pipe at the numbers `WorkerDescriptors` names.
///
/// `posix_spawn` of a fresh image rather than `fork` alone: the master is multi-threaded, and
/// only a fresh image is safe there; it also gives every worker a clean Swift runtime.
enum WorkerLauncher {
    struct Launched {
        var pid: pid_t
        /// The master's end of the control pipe; the worker sees end of file when it closes.
        var control: Int32
        /// The master's end of the status pipe.
        var status: Int32
    }

    /// `executable` is the worker's by default; the certificate coordinator (`berth-acme`)
    /// is started the same way, with no listeners.
    static func spawn(listeners: [Int32], executable: String = WorkerBinary.path) throws -> Launched {
        let control = try Descriptor.pipe()
        let status: (read: Int32, write: Int32)
        do {
            status = try Descriptor.pipe()
        } catch {
            close(control.read)
            close(control.write)
            throw error
        }
        defer {
            // The worker's ends live on in the worker only.
            close(control.read)
            close(status.write)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // dup2 to the final numbers in two steps: a direct move could overwrite a source that
        // happens to sit at a target number. dup2 clears close-on-exec on the copy.
        let sources = [control.read, status.write] + listeners
        let staging = max(sources.max() ?? 0, WorkerDescriptors.control + Int32(sources.count)) + 1
        for (i, source) in sources.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, source, staging + Int32(i))
        }
        for i in sources.indices {
            posix_spawn_file_actions_adddup2(&actions, staging + Int32(i), WorkerDescriptors.control + Int32(i))
        }
        // Everything else stays behind, staging copies included (glibc 2.34+; before that,
        // the master's descriptors are close-on-exec anyway).
        _ = cberth_spawn_close_from(&actions, WorkerDescriptors.control + Int32(sources.count))

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The master ignores or handles signals through Dispatch; a worker starts with the
        // defaults and an empty mask, and sets up its own. Its own process group: Ctrl-C on a
        // terminal reaches the master only, which stops the workers in order instead of having
        // them race it.
        cberth_spawnattr_reset_signals(&attributes, 1)

        let listenerNumbers = listeners.indices.map { String(WorkerDescriptors.firstListener + Int32($0)) }
        var environment = ProcessInfo.processInfo.environment
        environment[WorkerDescriptors.listenEnvironment] = listenerNumbers.joined(separator: ",")
        // A crashing worker keeps its connections (and its slot) until the Swift runtime has
        // printed its backtrace; symbolicating one takes seconds. Unsymbolicated, it takes a
        // tenth of that and still names every image and address (addr2line resolves them).
        // Set SWIFT_BACKTRACE to choose otherwise.
        if environment["SWIFT_BACKTRACE"] == nil {
            environment["SWIFT_BACKTRACE"] = "enable=yes,interactive=no,symbolicate=off,threads=crashed,registers=none,images=mentioned"
        }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let arguments = [executable]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            close(control.write)
            close(status.read)
            throw CLIError("cannot start \(executable == WorkerBinary.path ? "a worker" : executable): \(String(cString: strerror(result)))")
        }
        return Launched(pid: pid, control: control.write, status: status.read)
    }
}

/// How a process ended, from `waitpid`'s status.
enum ExitStatus: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus status: Int32) {
        // The W* macros are not importable; this is their glibc definition.
        let signal = status & 0x7F
        self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal): return "killed by \(Self.name(of: signal))"
        }
    }

    static func name(of signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
            SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
