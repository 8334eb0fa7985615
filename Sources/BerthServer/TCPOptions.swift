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
