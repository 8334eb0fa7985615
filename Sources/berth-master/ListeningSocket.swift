import BerthConfig
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A listening socket the master binds once and lends to every worker it starts.
///
/// The master owns it for as long as a generation it serves lists it, so the kernel's
/// accept queue outlives any worker: while one restarts, or while a new generation takes
/// over, connections wait in the backlog instead of being refused.
final class ListeningSocket {
    /// As written in the file (canonical address, configured port): a reload keeps the socket
    /// of a listener it still lists, including `port: 0` ones, which keep their port.
    let address: String
    let configuredPort: Int
    /// The port the kernel bound (differs from `configuredPort` when that is 0).
    let port: Int
    private(set) var fd: Int32

    /// Room for bursts while every worker is busy or restarting; the kernel caps it at
    /// net.core.somaxconn. Workers set the same value when they adopt the socket.
    static let backlog: Int32 = 4096

    private init(address: String, configuredPort: Int, port: Int, fd: Int32) {
        self.address = address
        self.configuredPort = configuredPort
        self.port = port
        self.fd = fd
    }

    func matches(_ listener: ListenerConfig) -> Bool {
        self.address == listener.address && self.configuredPort == listener.port
    }

    func close() {
        guard self.fd >= 0 else { return }
        Glibc.close(self.fd)
        self.fd = -1
    }

    deinit { self.close() }

    /// Binds and listens, close-on-exec (workers get a copy through explicit inheritance only).
    static func bind(_ listener: ListenerConfig) throws -> ListeningSocket {
        let isV6 = listener.address.contains(":")
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(listener: listener, message: "socket: \(Self.errorText())") }
        func fail(_ call: String) -> ListenError {
            let error = ListenError(listener: listener, message: "\(call): \(Self.errorText())")
            Glibc.close(fd)
            return error
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32
        if isV6 {
            // "::" must not also claim IPv4: "0.0.0.0" on the same port is its own listener.
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(listener.port).bigEndian)
            inet_pton(AF_INET6, listener.address, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(listener.port).bigEndian)
            inet_pton(AF_INET, listener.address, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else { throw fail("bind") }
        guard listen(fd, Self.backlog) == 0 else { throw fail("listen") }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw fail("getsockname") }
        let port = withUnsafePointer(to: &storage) { pointer -> UInt16 in
            isV6
                ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return ListeningSocket(address: listener.address, configuredPort: listener.port, port: Int(port), fd: fd)
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }

    /// A listener that could not be bound, with the place in the file that asked for it.
    struct ListenError: Error, CustomStringConvertible {
        var listener: ListenerConfig
        var message: String
        var description: String {
            "\(self.listener.location): cannot listen on \(self.listener.endpointDescription): \(self.message)"
        }
    }
}

/// The sockets a configuration needs: the ones already bound for the same address and
/// configured port are reused, the others bound now.
struct ListenerAssignment {
    /// One per `config.listeners` entry, in file order.
    var sockets: [ListeningSocket]
    /// The subset bound for this configuration (closed again if it is not put into service).
    var fresh: [ListeningSocket]

    static func assign(_ listeners: [ListenerConfig], reusing existing: [ListeningSocket]) throws -> ListenerAssignment {
        var available = existing
        var assignment = ListenerAssignment(sockets: [], fresh: [])
        for listener in listeners {
            if let at = available.firstIndex(where: { $0.matches(listener) }) {
                assignment.sockets.append(available.remove(at: at))
                continue
            }
            do {
                let socket = try ListeningSocket.bind(listener)
                assignment.sockets.append(socket)
                assignment.fresh.append(socket)
            } catch {
                for socket in assignment.fresh { socket.close() }
                throw error
            }
        }
        return assignment
    }
}
