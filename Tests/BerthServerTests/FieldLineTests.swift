import NIOCore
import Testing

@testable import BerthServer

/// A response field line written in one copy is the same bytes the four writes made.
@Suite("Field lines of HTTP/1.1 heads")
struct FieldLineTests {
    @Test(arguments: [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("X-Empty", ""),
        ("X-Long", String(repeating: "v", count: 300)),
        ("X-Ünïcode-Value", "café ☕"),
    ])
    func aFieldLineIsNameColonValueCRLF(name: String, value: String) {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.writeStaticString("HTTP/1.1 200 OK\r\n")
        buffer.writeFieldLine(name, value)
        buffer.writeFieldLine("Content-Length", "13")
        #expect(String(buffer: buffer) == "HTTP/1.1 200 OK\r\n\(name): \(value)\r\nContent-Length: 13\r\n")
    }
}
