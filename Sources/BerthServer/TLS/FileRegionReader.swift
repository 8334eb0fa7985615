import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns file regions into byte buffers on TLS connections. The static handler sends file
/// bodies as `FileRegion`s so that plain connections use `sendfile`; TLS has to encrypt every
/// byte, so here the file is read instead. Sits right above the TLS handler, where both
/// HTTP/1.1 bodies and HTTP/2 DATA frames arrive as `IOData`.
///
/// A file is read `chunkSize` bytes at a time with `pread`, and at most `chunksInFlight` chunks
/// are written but not yet sent, so a large file costs the same bounded memory per connection
/// whatever the client's reading speed. Writes that arrive while a file is being read wait
/// behind it, so bytes leave in the order they were written.
final class FileRegionReader: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = ByteBuffer

    /// Four TLS records of 16 KiB (RFC 8446 §5.1).
    static let chunkSize = 64 * 1024
    static let chunksInFlight = 4

    private enum Pending {
        case write(IOData, EventLoopPromise<Void>?)
        case flush
    }

    /// The file being read. Its descriptor is a duplicate: the response that wrote the region
    /// may give up its own (a reset HTTP/2 stream does) while chunks are still being read.
    private struct FileRead {
        var descriptor: CInt
        var offset: Int
        var remaining: Int
        var promise: EventLoopPromise<Void>?
    }

    private var file: FileRead?
    private var inFlight = 0
    private var queue = CircularBuffer<Pending>()
    private var pumping = false
    private var failure: Error?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let failure = self.failure {
            promise?.fail(failure)
            return
        }
        if self.file != nil || !self.queue.isEmpty {
            self.queue.append(.write(self.unwrapOutboundIn(data), promise))
            return
        }
        self.start(self.unwrapOutboundIn(data), promise: promise, context: context)
    }

    func flush(context: ChannelHandlerContext) {
        if self.file != nil || !self.queue.isEmpty {
            self.queue.append(.flush)
        } else {
            context.flush()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.fail(ChannelError.ioOnClosedChannel, context: context)
    }

    private func start(_ data: IOData, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        switch data {
        case .byteBuffer(let buffer):
            context.write(self.wrapOutboundOut(buffer), promise: promise)
        case .fileRegion(let region):
            let descriptor: CInt
            do {
                descriptor = try region.fileHandle.withUnsafeFileDescriptor { dup($0) }
            } catch {
                promise?.fail(error)
                return
            }
            guard descriptor >= 0 else {
                promise?.fail(IOError(errnoCode: errno, reason: "dup"))
                return
            }
            self.file = FileRead(descriptor: descriptor, offset: region.readerIndex, remaining: region.readableBytes, promise: promise)
            self.pump(context: context)
        }
    }

    /// Reads and writes chunks until `chunksInFlight` are outstanding; called again as each
    /// one is sent. Re-entrant calls (a write completing synchronously) just let the running
    /// loop continue.
    private func pump(context: ChannelHandlerContext) {
        if self.pumping { return }
        self.pumping = true
        defer { self.pumping = false }
        while var file = self.file {
            if file.remaining > 0 && self.inFlight < Self.chunksInFlight {
                let count = min(Self.chunkSize, file.remaining)
                let buffer: ByteBuffer
                switch Self.read(file.descriptor, offset: file.offset, count: count, allocator: context.channel.allocator) {
                case .success(let read):
                    buffer = read
                case .failure(let error):
                    self.fail(error, context: context)
                    context.close(promise: nil)
                    return
                }
                file.offset += buffer.readableBytes
                file.remaining -= buffer.readableBytes
                self.file = file
                self.inFlight += 1
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { result in
                    let (handler, context) = loopBound.value
                    handler.inFlight -= 1
                    switch result {
                    case .success: handler.pump(context: context)
                    case .failure(let error): handler.fail(error, context: context)
                    }
                }
            } else if file.remaining == 0 && self.inFlight == 0 {
                Glibc.close(file.descriptor)
                self.file = nil
                file.promise?.succeed()
                // What waited behind the file goes out now; another file starts a new read.
                while self.file == nil, let next = self.queue.popFirst() {
                    switch next {
                    case .write(let data, let promise): self.start(data, promise: promise, context: context)
                    case .flush: context.flush()
                    }
                }
            } else {
                return
            }
        }
    }

    /// A short read means the file shrank after its length went into the response head: the
    /// response cannot be completed, so the connection closes.
    private static func read(_ descriptor: CInt, offset: Int, count: Int, allocator: ByteBufferAllocator) -> Result<ByteBuffer, IOError> {
        var buffer = allocator.buffer(capacity: count)
        var failure: CInt = 0
        while buffer.readableBytes < count {
            let want = count - buffer.readableBytes
            let at = offset + buffer.readableBytes
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { pointer -> Int in
                let result = pread(descriptor, pointer.baseAddress, want, off_t(at))
                if result < 0 { failure = errno }
                return max(result, 0)
            }
            if failure == EINTR {
                failure = 0
                continue
            }
            if failure != 0 { return .failure(IOError(errnoCode: failure, reason: "pread")) }
            if got == 0 { return .failure(IOError(errnoCode: EIO, reason: "file shorter than its response")) }
        }
        return .success(buffer)
    }

    private func fail(_ error: Error, context: ChannelHandlerContext) {
        guard self.failure == nil else { return }
        self.failure = error
        if let file = self.file {
            Glibc.close(file.descriptor)
            self.file = nil
            file.promise?.fail(error)
        }
        while let next = self.queue.popFirst() {
            if case .write(_, let promise) = next { promise?.fail(error) }
        }
    }
}
