import NIOCore
import Testing

@testable import BerthServer

/// The per-thread buffer HTTP/1.1 responses are written into.
@Suite("Response buffers reused once the socket is done with them")
struct ResponseBuffersTests {
    let allocator = ByteBufferAllocator()

    static func address(_ buffer: ByteBuffer) -> UInt {
        buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func aBufferNoOneElseHoldsIsTakenAgain() {
        let buffers = ResponseBuffers()
        var first = buffers.buffer(capacity: 64, allocator: self.allocator)
        first.writeString("first answer")
        let storage = Self.address(first)
        buffers.keep(first)
        first = ByteBuffer()
        let second = buffers.buffer(capacity: 64, allocator: self.allocator)
        #expect(Self.address(second) == storage)
        #expect(second.readableBytes == 0)
    }

    @Test func aBufferTheSocketStillHoldsIsNeverWrittenInto() {
        let buffers = ResponseBuffers()
        var queued = buffers.buffer(capacity: 64, allocator: self.allocator)
        queued.writeString("still queued")
        buffers.keep(queued)
        var next = buffers.buffer(capacity: 64, allocator: self.allocator)
        next.writeString("the next answer")
        #expect(Self.address(next) != Self.address(queued))
        #expect(String(buffer: queued) == "still queued")
        #expect(String(buffer: next) == "the next answer")
    }

    @Test func aBodyNoLongerHeldLeavesItsStorageToTheNext() {
        let buffers = ResponseBuffers()
        var first = buffers.body(copying: Array("first body".utf8), allocator: self.allocator)
        let storage = Self.address(first)
        first = ByteBuffer()
        let second = buffers.body(copying: Array("second".utf8), allocator: self.allocator)
        #expect(Self.address(second) == storage)
        #expect(String(buffer: second) == "second")
    }

    @Test func aBodyStillHeldIsNeverWrittenInto() {
        let buffers = ResponseBuffers()
        let queued = buffers.body(copying: Array("still queued".utf8), allocator: self.allocator)
        let next = buffers.body(copying: Array("the next body".utf8), allocator: self.allocator)
        #expect(Self.address(next) != Self.address(queued))
        #expect(String(buffer: queued) == "still queued")
        #expect(String(buffer: next) == "the next body")
    }

    @Test func largeBodiesAreNotKept() {
        let buffers = ResponseBuffers()
        let bytes = [UInt8](repeating: 0x61, count: ResponseBuffers.keptCapacity + 1)
        var large = buffers.body(copying: bytes, allocator: self.allocator)
        large = ByteBuffer()
        // Had the large storage been kept, the next body would be written into it.
        let next = buffers.body(copying: [0x62], allocator: self.allocator)
        #expect(next.capacity < ResponseBuffers.keptCapacity)
        #expect(String(buffer: next) == "b")
        _ = large
    }

    @Test func largeBuffersAreNotKept() {
        let buffers = ResponseBuffers()
        let large = buffers.buffer(capacity: ResponseBuffers.keptCapacity + 1, allocator: self.allocator)
        let storage = Self.address(large)
        buffers.keep(large)
        let next = buffers.buffer(capacity: 64, allocator: self.allocator)
        #expect(next.capacity < ResponseBuffers.keptCapacity)
        #expect(Self.address(next) != storage)
    }
}
