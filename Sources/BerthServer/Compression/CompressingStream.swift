import NIOCore

/// A streamed body compressed as it goes: each chunk the producer writes is compressed and
/// flushed at once (a sync flush), so the client can decode it without waiting for the next,
/// and the end of the stream writes the coding's trailer.
enum CompressingStream {
    static func wrap(_ stream: ResponseStream, encoder: ContentEncoder, allocator: ByteBufferAllocator) -> ResponseStream {
        ResponseStream { sink in
            stream.start(CompressingSink(sink: sink, encoder: encoder, allocator: allocator))
        }
    }
}

/// Sits between a producer and the exchange's sink; every call is on the exchange's event loop.
private final class CompressingSink: ResponseStreamSink {
    private let sink: ResponseStreamSink
    private let encoder: ContentEncoder
    private let allocator: ByteBufferAllocator

    init(sink: ResponseStreamSink, encoder: ContentEncoder, allocator: ByteBufferAllocator) {
        self.sink = sink
        self.encoder = encoder
        self.allocator = allocator
    }

    func write(_ chunk: ByteBuffer) -> EventLoopFuture<Void> {
        // An empty chunk has nothing to flush; the sink completes it at once.
        guard chunk.readableBytes > 0 else { return self.sink.write(chunk) }
        var output = self.allocator.buffer(capacity: chunk.readableBytes / 2 + 64)
        self.encoder.compressAndFlush(chunk, into: &output)
        return self.sink.write(output)
    }

    func finish() {
        var output = self.allocator.buffer(capacity: 64)
        self.encoder.finish(into: &output)
        if output.readableBytes > 0 { _ = self.sink.write(output) }
        self.sink.finish()
    }

    func fail(_ error: Error) {
        self.sink.fail(error)
    }
}
