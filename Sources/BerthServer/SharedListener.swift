import BerthProcess
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOPosix
import Synchronization

/// Accepts on a listening socket that other processes accept on too (a worker's socket,
/// inherited from the master and shared with its sibling workers and with the next
/// generation during a reload), and hands each connection to the server's event loops.
///
/// NIO's server channel cannot adopt such a socket: when several processes wait on one
/// accept queue, every one of them is woken for a connection only one can take, and NIO
/// treats a wake-up with nothing to accept as a broken invariant (a debug assertion). So a
/// thread of its own waits here instead, takes what there is, and gives each connection to
/// an event loop (`ClientBootstrap.withConnectedSocket`) with its listener's pipeline. The
/// pipeline learns the connection's descriptor, which NIO does not tell.
/// Losing the race to another process costs this thread one `accept` that finds nothing.
final class SharedListener: @unchecked Sendable {
    /// Sets up an accepted connection's pipeline; it gets the connection's socket too.
    typealias Initializer = @Sendable (Channel, ConnectionSocket) -> EventLoopFuture<Void>

    private let socket: CInt
    private let bootstrap: ClientBootstrap
    private let initializer: Initializer
    /// Written to stop the thread; the thread owns every descriptor from then on.
    private let wake: (read: CInt, write: CInt)
    private let state = Mutex((closed: false, started: false))
    private let finished = DispatchSemaphore(value: 0)

    init(socket: CInt, bootstrap: ClientBootstrap, initializer: @escaping Initializer) throws {
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { throw IOError(errnoCode: errno, reason: "pipe") }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        self.socket = socket
        self.bootstrap = bootstrap
        self.initializer = initializer
        self.wake = (ends[0], ends[1])
        let flags = fcntl(socket, F_GETFL)
        _ = fcntl(socket, F_SETFL, flags | O_NONBLOCK)
    }

    func start() {
        self.state.withLock { $0.started = true }
        DetachedThread.start(name: "berth.accept") {
            self.run()
            self.finished.signal()
        }
    }

    /// Stops accepting and closes this process's copy of the socket; connections already
    /// queued stay for the other processes holding it. Returns once the thread has handed
    /// over its last connection, so a drain that follows covers every connection it took.
    func close() {
        let (closed, started) = self.state.withLock { state in
            defer { state.closed = true }
            return (state.closed, state.started)
        }
        guard !closed else { return }
        guard started else {
            Glibc.close(self.socket)
            Glibc.close(self.wake.read)
            Glibc.close(self.wake.write)
            return
        }
        var byte: UInt8 = 1
        _ = write(self.wake.write, &byte, 1)
        self.finished.wait()
    }

    private func run() {
        var fds = [pollfd(fd: self.socket, events: Int16(POLLIN), revents: 0), pollfd(fd: self.wake.read, events: Int16(POLLIN), revents: 0)]
        waiting: while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if fds[1].revents != 0 { break }
            // Take the whole queue while it lasts: one wake-up may stand for many connections.
            accepting: while true {
                let fd = Self.accept(self.socket)
                if fd >= 0 {
                    let (initializer, socket) = (self.initializer, ConnectionSocket(descriptor: fd))
                    _ = self.bootstrap.channelInitializer { initializer($0, socket) }.withConnectedSocket(fd)
                    continue
                }
                switch errno {
                case EINTR, ECONNABORTED, EPROTO:
                    continue accepting
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors or memory: let connections wait in the queue a moment
                    // rather than spin on it.
                    usleep(10_000)
                    continue waiting
                default:
                    // EAGAIN: another process took it, or the queue is empty.
                    continue waiting
                }
            }
        }
        Glibc.close(self.socket)
        Glibc.close(self.wake.read)
        Glibc.close(self.wake.write)
    }

    /// accept4 with non-blocking and close-on-exec set atomically; Glibc hides it behind
    /// `_GNU_SOURCE`, so it is looked up at run time (with a fallback that sets both after).
    private static func accept(_ socket: CInt) -> CInt {
        if let accept4 = accept4Call {
            return accept4(socket, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        }
        let fd = Glibc.accept(socket, nil, nil)
        if fd >= 0 {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        return fd
    }

    /// The port a socket is bound to.
    static func localPort(of socket: CInt) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard named == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET: return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6: return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default: return nil
            }
        }
    }

    private typealias Accept4 = @convention(c) (CInt, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, CInt) -> CInt
    private static let accept4Call = dlsym(nil, "accept4").map { unsafeBitCast($0, to: Accept4.self) }
}
