import NIOCore
import NIOHPACK
import NIOHTTP1
import Testing

@testable import BerthServer

@Suite("HTTP/2 response encoding: HPACK blocks (RFC 7541) and frames")
struct HTTP2ResponseEncodingTests {
    func decode(_ block: ByteBuffer) throws -> [(String, String)] {
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        var block = block
        let fields = try decoder.decodeHeaders(from: &block)
        #expect(block.readableBytes == 0)
        return fields.map { ($0.name, $0.value) }
    }

    @Test func statusCodesInAndOutOfTheStaticTable() throws {
        for status in [200, 204, 206, 304, 400, 404, 500] {
            var block = ByteBuffer()
            HPACKResponseEncoder.writeStatus(status, into: &block)
            #expect(block.readableBytes == 1, "\(status) is indexed")
            #expect(try self.decode(block).map(\.1) == [String(status)])
        }
        for status in [101, 201, 301, 302, 308, 403, 405, 413, 431, 503, 999] {
            var block = ByteBuffer()
            HPACKResponseEncoder.writeStatus(status, into: &block)
            #expect(block.readableBytesView.first == 0x08, "literal without indexing, name index 8")
            #expect(try self.decode(block).map { "\($0.0)=\($0.1)" } == [":status=\(status)"])
        }
    }

    @Test func fieldsDecodeAsWritten() throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "content-length", value: "1234")
        headers.add(name: "ETag", value: "\"abc\"")
        headers.add(name: "X-Custom-Header", value: "a value")
        headers.add(name: "Strict-Transport-Security", value: "max-age=63072000")
        headers.add(name: "set-cookie", value: "a=1")
        headers.add(name: "set-cookie", value: "b=2")
        headers.add(name: "x-long", value: String(repeating: "v", count: 300))
        var block = ByteBuffer()
        HPACKResponseEncoder.writeResponse(status: 200, headers: headers, into: &block)
        let decoded = try self.decode(block)
        #expect(decoded.map(\.0) == [":status", "content-type", "content-length", "etag", "x-custom-header", "strict-transport-security", "set-cookie", "set-cookie", "x-long"])
        #expect(decoded.map(\.1) == ["200"] + headers.map(\.value))
    }

    @Test func staticNamesAreIndexedAndNothingIsAddedToATable() throws {
        var block = ByteBuffer()
        HPACKResponseEncoder.writeField(name: "content-type", value: "a", into: &block)
        // 0x0f 0x10 (index 31 in a 4-bit prefix), then the value: length 1, "a".
        #expect(Array(block.readableBytesView) == [0x0f, 0x10, 0x01, UInt8(ascii: "a")])
        var literal = ByteBuffer()
        HPACKResponseEncoder.writeField(name: "X-A", value: "", into: &literal)
        #expect(Array(literal.readableBytesView) == [0x00, 0x03, UInt8(ascii: "x"), UInt8(ascii: "-"), UInt8(ascii: "a"), 0x00])
        // 0000xxxx is "without indexing": a decoder adds nothing to its dynamic table, so the
        // same bytes mean the same fields on any connection, any number of times.
        #expect(try self.decode(block).map(\.0) == ["content-type"])
    }

    @Test func connectionSpecificFieldsAreNeverWritten() throws {
        var headers = HTTPHeaders()
        for name in ["Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", ":path"] {
            headers.add(name: name, value: "x")
        }
        headers.add(name: "vary", value: "accept-encoding")
        var block = ByteBuffer()
        HPACKResponseEncoder.writeResponse(status: 404, headers: headers, into: &block)
        #expect(try self.decode(block).map(\.0) == [":status", "vary"])
    }

    @Test func preparedFieldsAppendToAnyConnectionsBlock() throws {
        let prepared = HPACKPreparedFields([
            (name: "Content-Type", value: "image/png"), (name: "content-length", value: "5"),
            (name: "last-modified", value: "Tue, 01 Jul 2025 10:00:00 GMT"),
        ])
        for status in [200, 304] {
            var block = ByteBuffer()
            HPACKResponseEncoder.writeStatus(status, into: &block)
            prepared.write(into: &block)
            HPACKResponseEncoder.writeField(name: "date", value: "Wed, 02 Jul 2025 10:00:00 GMT", into: &block)
            #expect(try self.decode(block).map(\.0) == [":status", "content-type", "content-length", "last-modified", "date"])
        }
    }

    @Test func largeIntegersUseContinuationBytes() throws {
        // RFC 7541 §C.1.2: 1337 in a 5-bit prefix is 31, 154, 10.
        var buffer = ByteBuffer()
        HPACKResponseEncoder.writeInteger(1337, prefixBits: 5, flags: 0, into: &buffer)
        #expect(Array(buffer.readableBytesView) == [31, 154, 10])
    }

    // MARK: - Frames

    @Test func headersAreSplitByThePeersFrameSize() throws {
        let block = ByteBuffer(bytes: Array(repeating: 0x88, count: 40_000))
        var output = ByteBuffer()
        HTTP2FrameWriter.writeHeaders(streamID: 3, fieldBlock: block, endStream: true, maxFrameSize: 16_384, into: &output)
        let frames = ServerFrame.parse(output)
        #expect(frames.map(\.type) == [0x1, 0x9, 0x9])
        #expect(frames.map(\.flags) == [0x1, 0x0, 0x4])
        #expect(frames.map(\.payload.count) == [16_384, 16_384, 7_232])
        #expect(frames.allSatisfy { $0.stream == 3 })
        var small = ByteBuffer()
        HTTP2FrameWriter.writeHeaders(streamID: 1, fieldBlock: ByteBuffer(bytes: [0x88]), endStream: false, maxFrameSize: 16_384, into: &small)
        #expect(ServerFrame.parse(small) == [ServerFrame(type: 0x1, flags: 0x4, stream: 1, payload: [0x88])])
    }

    @Test func controlFramesRoundTripThroughTheDecoder() throws {
        var output = ByteBuffer()
        HTTP2FrameWriter.writeSettings([HTTP2SettingsEntry(0x3, 100), HTTP2SettingsEntry(0x4, 1 << 20)], into: &output)
        HTTP2FrameWriter.writeSettingsAck(into: &output)
        HTTP2FrameWriter.writePingAck(opaque: 99, into: &output)
        HTTP2FrameWriter.writeWindowUpdate(streamID: 5, increment: 1000, into: &output)
        HTTP2FrameWriter.writeRSTStream(streamID: 5, code: .refusedStream, into: &output)
        HTTP2FrameWriter.writeDataHeader(streamID: 5, length: 3, endStream: true, into: &output)
        output.writeString("abc")
        HTTP2FrameWriter.writeGoAway(lastStreamID: 5, code: .enhanceYourCalm, debugData: "calm", into: &output)
        // The server's frames are valid frames: the client-side decoder reads them back.
        var input = ClientFrames.preface
        input.writeImmutableBuffer(output)
        var decoder = HTTP2FrameDecoder(maxFieldBlockBytes: 100)
        var frames: [HTTP2FrameDecoder.Frame] = []
        while let frame = try decoder.next(from: &input) { frames.append(frame) }
        #expect(
            frames == [
                .settings(HTTP2SettingsList(payload: ByteBuffer(bytes: [0, 3, 0, 0, 0, 100, 0, 4, 0, 0x10, 0, 0]))),
                .settingsAck,
                .pingAck(opaque: 99),
                .windowUpdate(streamID: 5, increment: 1000),
                .rstStream(streamID: 5, code: .refusedStream),
                .data(streamID: 5, payload: ByteBuffer(string: "abc"), endStream: true, flowControlledLength: 3),
                .goAway(lastStreamID: 5, code: .enhanceYourCalm),
            ])
        #expect(ServerFrame.parse(output).last?.payload.suffix(4) == Array("calm".utf8))
    }
}
