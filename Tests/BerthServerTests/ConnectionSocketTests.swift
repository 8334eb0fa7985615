@testable import BerthServer
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing

/// The cork Berth sets around a file it sends is set on the socket itself and taken out
/// again: a cork left in would hold a response's last partial segment back for 200 ms.
@Suite struct ConnectionSocketTests {
    @Test func theCorkIsSetAndTakenOut() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        let socket = ConnectionSocket(descriptor: fd)
        #expect(Self.cork(of: fd) == 0)
        socket.cork(true)
        #expect(Self.cork(of: fd) == 1)
        socket.cork(false)
        #expect(Self.cork(of: fd) == 0)
    }

    private static func cork(of fd: CInt) -> CInt {
        var value: CInt = -1
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, CInt(IPPROTO_TCP), TCP_CORK, &value, &length) == 0 else { return -1 }
        return value
    }
}
