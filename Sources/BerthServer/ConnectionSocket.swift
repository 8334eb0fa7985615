#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore

/// A plain connection's socket, written to directly. NIO owns the descriptor: it is only used
/// on the connection's event loop while the channel is open, since NIO closes it there and the
/// number may then name another connection's socket.
///
/// A response sent here costs its system calls and nothing more; through NIO's channel it also
/// paid for the pipeline, the write queue, a promise per file and the generic code around them,
/// a few microseconds per response that nginx does not spend. What the socket does not take
/// (it is full) goes through NIO after all (see `HTTP1Connection.send`).
struct ConnectionSocket: Sendable {
    let descriptor: CInt

    /// How many of `bytes` the socket took: fewer (0 included) when it is full, nil when the
    /// connection is broken. `more`: the next send follows at once, so a partial segment
    /// waits for it (`MSG_MORE`) instead of leaving as a packet of its own.
    func send(_ bytes: ByteBuffer, more: Bool) -> Int? {
        let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
        return bytes.withUnsafeReadableBytes { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
            return Self.retrying { Glibc.send(self.descriptor, base, buffer.count, flags) }
        }
    }

    /// How many bytes of `file` from `offset` the socket took with `sendfile(2)`: fewer when
    /// it is full, nil when the connection (or the file) failed.
    func sendFile(_ file: CInt, offset: Int64, count: Int64) -> Int? {
        var position = off_t(offset)
        return Self.retrying { Glibc.sendfile(self.descriptor, file, &position, Int(count)) }
    }

    /// `TCP_CORK`: partial segments wait until it is taken out (nginx's `tcp_nopush`), for a
    /// head and a file written through NIO, which has no `MSG_MORE`. A socket that refuses it
    /// just sends as it would.
    func cork(_ on: Bool) {
        var value: CInt = on ? 1 : 0
        _ = setsockopt(self.descriptor, CInt(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<CInt>.size))
    }

    /// A system call's byte count: 0 for a full socket, nil for any other failure.
    private static func retrying(_ call: () -> Int) -> Int? {
        while true {
            let result = call()
            if result >= 0 { return result }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            default: return nil
            }
        }
    }
}
