import BerthStatic
import NIOCore
import NIOHTTP1
import NIOPosix

/// Response heads and bodies as HTTP/1.1 bytes (RFC 9112), collected so that the writes of
/// one response leave together: a head and a small body are one buffer, one `write(2)`.
struct HTTP1ResponseWriter {
    /// Bodies up to this size are copied behind their head rather than written on their own.
    static let coalescingLimit = 16 * 1024

    private var common: CommonFields
    /// The thread's reusable buffer for heads and the small bodies behind them: the
    /// connection's loop's (`HTTP1Connection.loopLocals`).
    private let buffers: ResponseBuffers
    /// Serialized bytes not yet handed to the socket.
    private var pending: ByteBuffer?
    /// The body being written is chunk-coded.
    private var chunked = false

    init(serverName: String, buffers: ResponseBuffers) {
        self.common = CommonFields(server: serverName)
        self.buffers = buffers
    }

    /// Status line, `Server` and `Date`, the head's fields, then the framing this protocol
    /// needs: `Connection` (close, or keep-alive for HTTP/1.0) and chunked coding. `body` is
    /// what will follow: the buffer is made large enough for a body that is copied behind the
    /// head, so it is not grown (and copied again) on the way.
    mutating func writeHead(_ head: ResponseHead, version: HTTPVersion, allocator: ByteBufferAllocator, body: ResponseBody = .empty) {
        var coalesced = 0
        if case .bytes(let bytes) = body, bytes.readableBytes <= Self.coalescingLimit { coalesced = bytes.readableBytes }
        var out = self.buffers.buffer(capacity: 192 + (head.prepared?.http1.readableBytes ?? 0) + head.unpreparedFields.count * 48 + coalesced,
                                      allocator: allocator)
        if head.status == 200 && version.minor == 1 {
            out.writeStaticString("HTTP/1.1 200 OK\r\n")
        } else {
            out.writeStaticString(version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
            let status = HTTPResponseStatus(statusCode: head.status)
            out.writeString(String(head.status))
            out.writeStaticString(" ")
            out.writeString(status.reasonPhrase)
            out.writeStaticString("\r\n")
        }
        out.writeImmutableBuffer(self.common.http1Lines())
        if let prepared = head.prepared { out.writeImmutableBuffer(prepared.http1) }
        for (name, value) in head.unpreparedFields { out.writeFieldLine(name, value) }
        if head.chunked { out.writeStaticString("Transfer-Encoding: chunked\r\n") }
        if head.closes {
            out.writeStaticString("Connection: close\r\n")
        } else if version.minor == 0 {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
        self.chunked = head.chunked
        self.append(&out)
    }

    /// Writes a whole body. Returns whether it sends from a file (the caller corks the socket
    /// for it); the write of a file region itself keeps its file open until the region left.
    @discardableResult
    mutating func write(_ body: ResponseBody, context: ChannelHandlerContext) -> Bool {
        switch body {
        case .empty, .stream:
            return false
        case .bytes:
            guard case .bytes(let alone) = self.coalesce(body) else { return false }
            self.writePending(context: context, promise: nil)
            context.write(NIOAny(IOData.byteBuffer(alone)), promise: nil)
            return false
        case .file(let file, let offset, let count):
            self.writePending(context: context, promise: nil)
            let region = FileRegion(fileHandle: file.handle, readerIndex: Int(offset), endIndex: Int(offset + count))
            // The descriptor must outlive the region's `sendfile`, which may wait for the
            // socket (a partial write). The region's own promise holds it: no empty write and
            // no second flush just to learn when the region left.
            let written = context.eventLoop.makePromise(of: Void.self)
            context.write(NIOAny(IOData.fileRegion(region)), promise: written)
            written.futureResult.whenComplete { _ in withExtendedLifetime(file) {} }
            return true
        case .parts(let parts):
            var sendsFile = false
            for part in parts {
                switch part {
                case .bytes(let buffer):
                    self.write(.bytes(buffer), context: context)
                case .file(let openFile, let offset, let count):
                    sendsFile = self.write(.file(openFile, offset: offset, count: count), context: context) || sendsFile
                }
            }
            return sendsFile
        }
    }

    /// A body small enough to travel behind its head is copied there (`.empty` is left);
    /// any other is left to be written on its own.
    mutating func coalesce(_ body: ResponseBody) -> ResponseBody {
        guard case .bytes(var buffer) = body, self.pending != nil, buffer.readableBytes <= Self.coalescingLimit else { return body }
        self.pending!.writeBuffer(&buffer)
        return .empty
    }

    /// The bytes written so far (a head, and a small body behind it), taken to be sent
    /// without NIO; hand the buffer back with `sent(_:)` once the socket took it.
    mutating func take() -> ByteBuffer? {
        self.pending.take()
    }

    /// A buffer from `take()` the socket took whole: its storage serves the next response.
    func sent(_ buffer: ByteBuffer) {
        self.buffers.keep(buffer)
    }

    /// One chunk of a streamed body, flushed; the future completes when the socket took it.
    mutating func writeChunk(_ chunk: ByteBuffer, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        guard chunk.readableBytes > 0 else { return context.eventLoop.makeSucceededVoidFuture() }
        var chunk = chunk
        if self.chunked {
            // An empty chunk would read as the last one; that case returned above.
            var frame = context.channel.allocator.buffer(capacity: chunk.readableBytes + 16)
            frame.writeString(String(chunk.readableBytes, radix: 16))
            frame.writeStaticString("\r\n")
            frame.writeBuffer(&chunk)
            frame.writeStaticString("\r\n")
            self.append(&frame)
        } else {
            self.append(&chunk)
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        self.writePending(context: context, promise: promise)
        context.flush()
        return promise.futureResult
    }

    /// The last chunk of a streamed body.
    mutating func endChunks(context: ChannelHandlerContext) {
        guard self.chunked else { return }
        self.chunked = false
        var last = context.channel.allocator.buffer(capacity: 5)
        last.writeStaticString("0\r\n\r\n")
        self.append(&last)
    }

    mutating func flush(context: ChannelHandlerContext) {
        // One pass down the pipeline for the last write and the flush, not one for each.
        if let bytes = self.pending {
            self.pending = nil
            context.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
            self.buffers.keep(bytes)
        } else {
            context.flush()
        }
    }

    /// Runs `done` once everything written so far has left: writes complete in order, so an
    /// empty write completes after all before it.
    mutating func whenWritten(context: ChannelHandlerContext, _ done: @escaping () -> Void) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        self.writePending(context: context, promise: promise)
        context.flush()
        let loopBound = NIOLoopBound(done, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in loopBound.value() }
    }

    private mutating func append(_ bytes: inout ByteBuffer) {
        if self.pending == nil {
            self.pending = bytes
        } else {
            self.pending!.writeBuffer(&bytes)
        }
    }

    private mutating func writePending(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let bytes = self.pending {
            self.pending = nil
            context.write(NIOAny(IOData.byteBuffer(bytes)), promise: promise)
            self.buffers.keep(bytes)
        } else if let promise {
            context.write(NIOAny(IOData.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
        }
    }
}

/// The buffer one event-loop thread serializes its HTTP/1.1 responses into, taken again once
/// the socket has written it: a small response then allocates nothing for its bytes. The
/// thread's connections share it. A buffer the socket still holds (a slow client) is never
/// written into, since `ByteBuffer` copies on write: `clear()` gives fresh storage then.
/// Only its own thread uses it (hence unchecked).
final class ResponseBuffers: @unchecked Sendable {
    /// Larger buffers are let go: one large answer should not keep its memory for the thread.
    static let keptCapacity = 32 * 1024

    private var spare: ByteBuffer?
    /// The storage of the last body made by `body(copying:allocator:)`, held as well.
    private var lastBody: ByteBuffer?

    /// An empty buffer with room for `capacity` bytes.
    func buffer(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var buffer = self.spare.take() else { return allocator.buffer(capacity: capacity) }
        buffer.clear()
        buffer.reserveCapacity(capacity)
        return buffer
    }

    /// `buffer` was handed to the socket: the next response may write into it once the
    /// socket is done with it.
    func keep(_ buffer: ByteBuffer) {
        if buffer.capacity <= Self.keptCapacity { self.spare = buffer }
    }

    /// A buffer holding `bytes` (an app's answer), in storage the thread takes again once the
    /// response that carried them is gone: a small body is copied behind its head, so it needs
    /// no storage of its own per response. The buffer stays held here as well, so a body
    /// still queued (an HTTP/2 stream's, waiting for its window) is not unique and is never
    /// written into: `clear()` gives fresh storage then.
    func body(copying bytes: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        guard bytes.count <= Self.keptCapacity else { return allocator.buffer(bytes: bytes) }
        var buffer = self.lastBody.take() ?? allocator.buffer(capacity: bytes.count)
        buffer.clear()
        buffer.writeBytes(bytes)
        self.lastBody = buffer
        return buffer
    }
}

extension ByteBuffer {
    /// `name: value\r\n`, copied in one write: a write of a `ByteBuffer` checks its bounds and
    /// its exclusive access each time, and a field line as four writes paid that four times.
    mutating func writeFieldLine(_ name: String, _ value: String) {
        let length = name.utf8.count + value.utf8.count + 4
        let written = self.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out -> Int in
            let names = name.utf8.withContiguousStorageIfAvailable { Self.copy($0, to: out, at: 0) }
            guard let afterName = names else { return 0 }
            out[afterName] = UInt8(ascii: ":")
            out[afterName + 1] = UInt8(ascii: " ")
            let values = value.utf8.withContiguousStorageIfAvailable { Self.copy($0, to: out, at: afterName + 2) }
            guard let afterValue = values else { return 0 }
            out[afterValue] = UInt8(ascii: "\r")
            out[afterValue + 1] = UInt8(ascii: "\n")
            return length
        }
        if written == 0 {
            // A string without contiguous UTF-8 (bridged): the same bytes, one write at a time.
            self.writeString(name)
            self.writeStaticString(": ")
            self.writeString(value)
            self.writeStaticString("\r\n")
        }
    }

    /// Copies `bytes` into `out` at `offset`; returns the offset after them.
    private static func copy(_ bytes: UnsafeBufferPointer<UInt8>, to out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return offset }
        (out.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count)
        return offset + bytes.count
    }
}
