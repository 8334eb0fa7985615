#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore

/// The TCP socket options Berth sets that NIO names no constant for.
enum TCPOptions {
    /// `TCP_NOTSENT_LOWAT`: how much a socket may hold unsent (see `ListenerConfig.unsentBytes`).
    static let unsentBytes = ChannelOptions.Types.SocketOption(
        level: .tcp, name: NIOBSDSocket.Option(rawValue: CInt(TCP_NOTSENT_LOWAT)))
}

/// An accepted connection's socket, for the options Berth changes while it serves. NIO owns
/// the descriptor: it is only used on the connection's event loop while the channel is open,
/// since NIO closes it there and the number may then name another connection's socket.
struct ConnectionSocket: Sendable {
    let descriptor: CInt

    /// `TCP_CORK`: partial segments wait until it is taken out (nginx's `tcp_nopush`). A
    /// socket that refuses it just sends as it would. Set directly: through the channel's
    /// options, a generic lookup of the option's type and a future cost more than the call.
    func cork(_ on: Bool) {
        var value: CInt = on ? 1 : 0
        _ = setsockopt(self.descriptor, CInt(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<CInt>.size))
    }
}
