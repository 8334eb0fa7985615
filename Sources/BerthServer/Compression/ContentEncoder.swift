import BerthStatic
import CBerthCompression
import NIOCore

/// A content coding's encoder (RFC 9110 §8.4.1): gzip through zlib, Brotli through libbrotlienc.
/// One instance compresses one body, whole or chunk by chunk; `flush` makes everything given
/// so far decodable at once (zlib's Z_SYNC_FLUSH, Brotli's BROTLI_OPERATION_FLUSH), which a
/// streamed body needs so that each chunk reaches the client when the app writes it.
/// Not thread-safe: one body, one event loop. zstd has no encoder here (`.zst` sidecars are
/// still served): the system has libzstd without its headers.
final class ContentEncoder {
    private enum State {
        case gzip(UnsafeMutablePointer<z_stream>)
        case brotli(OpaquePointer)
    }

    /// Brotli's window for streamed bodies: 512 KiB (as nginx's brotli module), not 16 MiB,
    /// so that a long-lived stream holds little memory.
    private static let streamWindowBits: Int32 = 19

    let coding: ContentCoding
    private let state: State
    private var finished = false

    /// Nil for a coding without an encoder here (zstd) or when the library has no memory.
    init?(coding: ContentCoding, level: Int) {
        self.coding = coding
        switch coding {
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard cberth_deflate_init_gzip(stream, Int32(level)) == Z_OK else {
                stream.deinitialize(count: 1)
                stream.deallocate()
                return nil
            }
            self.state = .gzip(stream)
        case .brotli:
            guard let encoder = BrotliEncoderCreateInstance(nil, nil, nil) else { return nil }
            BrotliEncoderSetParameter(encoder, BROTLI_PARAM_QUALITY, UInt32(level))
            BrotliEncoderSetParameter(encoder, BROTLI_PARAM_LGWIN, UInt32(Self.streamWindowBits))
            self.state = .brotli(encoder)
        case .zstandard:
            return nil
        }
    }

    deinit {
        switch self.state {
        case .gzip(let stream):
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        case .brotli(let encoder):
            BrotliEncoderDestroyInstance(encoder)
        }
    }

    /// Compresses `input` and flushes, appending the output to `output`.
    func compressAndFlush(_ input: ByteBuffer, into output: inout ByteBuffer) {
        self.run(input, final: false, into: &output)
    }

    /// Ends the stream (the gzip trailer, Brotli's last meta-block).
    func finish(into output: inout ByteBuffer) {
        guard !self.finished else { return }
        self.finished = true
        self.run(ByteBuffer(), final: true, into: &output)
    }

    private func run(_ input: ByteBuffer, final: Bool, into output: inout ByteBuffer) {
        input.withUnsafeReadableBytes { raw in
            switch self.state {
            case .gzip(let stream):
                Self.deflate(stream, raw, mode: final ? Z_FINISH : Z_SYNC_FLUSH, into: &output)
            case .brotli(let encoder):
                Self.brotli(encoder, raw, operation: final ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_FLUSH, into: &output)
            }
        }
    }

    private static func deflate(_ stream: UnsafeMutablePointer<z_stream>, _ input: UnsafeRawBufferPointer, mode: Int32,
                                into output: inout ByteBuffer) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
        stream.pointee.avail_in = uInt(input.count)
        // zlib: with a flush mode, call again while it filled the whole output space; Z_FINISH
        // is done at Z_STREAM_END.
        var done = false
        while !done {
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: max(1024, input.count / 2)) { space in
                stream.pointee.next_out = space.bindMemory(to: Bytef.self).baseAddress
                stream.pointee.avail_out = uInt(space.count)
                let result = CBerthCompression.deflate(stream, mode)
                let written = space.count - Int(stream.pointee.avail_out)
                done = mode == Z_FINISH ? result == Z_STREAM_END || result == Z_STREAM_ERROR : stream.pointee.avail_out > 0
                return written
            }
        }
        stream.pointee.next_in = nil
    }

    private static func brotli(_ encoder: OpaquePointer, _ input: UnsafeRawBufferPointer, operation: BrotliEncoderOperation,
                               into output: inout ByteBuffer) {
        var availableIn = input.count
        var nextIn = input.bindMemory(to: UInt8.self).baseAddress
        var failed = false
        repeat {
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: max(1024, input.count / 2)) { space in
                var availableOut = space.count
                var nextOut = space.bindMemory(to: UInt8.self).baseAddress
                failed = BrotliEncoderCompressStream(encoder, operation, &availableIn, &nextIn, &availableOut, &nextOut, nil) == 0
                return space.count - availableOut
            }
        } while !failed && (availableIn > 0 || BrotliEncoderHasMoreOutput(encoder) != 0
            || (operation == BROTLI_OPERATION_FINISH && BrotliEncoderIsFinished(encoder) == 0))
    }

    /// A whole body in one call: the output of a fresh encoder, finished. Brotli's window
    /// fits the input (at most 4 MiB), so a small file costs a small state.
    static func compress(_ input: ByteBuffer, coding: ContentCoding, level: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        switch coding {
        case .brotli:
            let size = input.readableBytes
            let bound = BrotliEncoderMaxCompressedSize(size)
            guard bound > 0 else { return nil }
            var window: Int32 = 10
            while window < 22 && (1 << window) - 16 < size { window += 1 }
            var output = allocator.buffer(capacity: bound)
            var ok = false
            _ = input.withUnsafeReadableBytes { raw in
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { space in
                    var encodedSize = space.count
                    ok = BrotliEncoderCompress(Int32(level), window, BROTLI_MODE_GENERIC, size,
                                               raw.bindMemory(to: UInt8.self).baseAddress, &encodedSize,
                                               space.bindMemory(to: UInt8.self).baseAddress) != 0
                    return ok ? encodedSize : 0
                }
            }
            return ok ? output : nil
        case .gzip:
            guard let encoder = ContentEncoder(coding: .gzip, level: level) else { return nil }
            var output = allocator.buffer(capacity: input.readableBytes / 3 + 64)
            input.withUnsafeReadableBytes { raw in
                guard case .gzip(let stream) = encoder.state else { return }
                Self.deflate(stream, raw, mode: Z_FINISH, into: &output)
            }
            encoder.finished = true
            return output
        case .zstandard:
            return nil
        }
    }
}
