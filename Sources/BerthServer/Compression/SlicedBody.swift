import NIOCore

/// A whole body handed on as a stream, a slice per event-loop tick: the compressor it feeds
/// then works a slice at a time, and the loop serves its other connections in between. The
/// next slice goes once the transport took the one before, so the socket's pace sets the
/// rate and at most one slice is in flight.
enum SlicedBody {
    static func stream(_ body: ByteBuffer, sliceBytes: Int, loop: EventLoop) -> ResponseStream {
        ResponseStream { sink in
            SliceFeeder(rest: body, sliceBytes: sliceBytes, sink: sink, loop: loop).next()
        }
    }
}

/// Feeds the slices; lives on the exchange's event loop, kept alive by the future it waits on.
private final class SliceFeeder {
    private var rest: ByteBuffer
    private let sliceBytes: Int
    private let sink: ResponseStreamSink
    private let loop: EventLoop

    init(rest: ByteBuffer, sliceBytes: Int, sink: ResponseStreamSink, loop: EventLoop) {
        self.rest = rest
        self.sliceBytes = sliceBytes
        self.sink = sink
        self.loop = loop
    }

    func next() {
        guard let slice = self.rest.readSlice(length: min(self.sliceBytes, self.rest.readableBytes)), slice.readableBytes > 0 else {
            self.sink.finish()
            return
        }
        let feeder = NIOLoopBound(self, eventLoop: self.loop)
        self.sink.write(slice).whenComplete { result in
            switch result {
            case .success:
                // A new tick, not this call: the write may have completed synchronously.
                feeder.value.loop.execute { feeder.value.next() }
            case .failure(let error):
                feeder.value.sink.fail(error)
            }
        }
    }
}
