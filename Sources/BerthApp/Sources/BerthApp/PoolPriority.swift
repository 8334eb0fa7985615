#if canImport(Glibc)
import Glibc
#endif

/// App work that has left the server's event loops runs on the Swift runtime's shared pool:
/// routes moved there for holding a loop, handlers' steps after their first suspension,
/// streamed bodies, WebSocket handlers. Those threads run at a lower scheduling priority than
/// the loops, so that when a CPU-bound handler and the loops compete for a core the loops
/// (every connection's reads and writes, static files, other routes' quick answers) get it
/// first; the pool still has every cycle the loops leave. `bench/app-stall.sh` (a handler
/// computing 50 ms, the server on one core): static requests' p99 grew by 9.4–9.9 ms with the
/// pool at the loops' priority, by 2.6–5.8 ms with the pool at nice 10.
@_spi(BerthServer)
public enum PoolPriority {
    /// Nice 10 weighs 110 against a nice-0 thread's 1024 in Linux's fair scheduler: about a
    /// ninth of a contended core.
    private static let niceness: Int32 = 10

    /// Set on a thread once it was lowered: a thread keeps its nice value, so later work on it
    /// needs no system call.
    private static let lowered: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
        return key
    }()

    /// Lowers the calling thread's priority, once per thread; call it only off the event
    /// loops. On Linux the nice value belongs to each thread, and `setpriority` for "process 0"
    /// sets the calling thread's. Lowering needs no privilege, so it works after the worker
    /// dropped root.
    public static func lowerThisThread() {
        #if os(Linux)
        let key = Self.lowered
        guard pthread_getspecific(key) == nil else { return }
        _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
        #endif
    }
}
