import NIOCore
import Testing

@testable import BerthServer

@Suite("HTTP/2 frame decoder (RFC 9113 §4, §6)")
struct HTTP2FrameDecoderTests {
    typealias Frame = HTTP2FrameDecoder.Frame

    func makeDecoder(cap: Int = 4096) -> HTTP2FrameDecoder {
        HTTP2FrameDecoder(maxFieldBlockBytes: cap)
    }

    /// Every frame `buffer` holds, draining the decoder.
    func frames(_ buffer: inout ByteBuffer, _ decoder: inout HTTP2FrameDecoder) throws(HTTP2ConnectionError) -> [Frame] {
        var frames: [Frame] = []
        while let frame = try decoder.next(from: &buffer) { frames.append(frame) }
        return frames
    }

    /// The connection error decoding `bytes` (after the opening) ends with, if any.
    func error(after bytes: ByteBuffer..., cap: Int = 4096) -> HTTP2ConnectionError? {
        var decoder = self.makeDecoder(cap: cap)
        var buffer = ClientFrames.opening
        for frame in bytes { buffer.writeImmutableBuffer(frame) }
        do throws(HTTP2ConnectionError) {
            _ = try self.frames(&buffer, &decoder)
            return nil
        } catch {
            return error
        }
    }

    /// A stream using every feature: padding, priority fields, CONTINUATION, unknown frame
    /// types, every frame type the client may send.
    var richStream: ByteBuffer {
        var buffer = ClientFrames.preface
        buffer.writeImmutableBuffer(ClientFrames.settings([(0x4, 1 << 20), (0x2, 0)]))
        // HEADERS: padded (2 bytes), priority fields, first fragment "abc".
        buffer.writeImmutableBuffer(
            ClientFrames.frame(type: 0x1, flags: 0x8 | 0x20 | 0x1, stream: 1, payload: [2, 0, 0, 0, 0, 16] + Array("abc".utf8) + [0, 0]))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x9, stream: 1, payload: Array("de".utf8)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x9, flags: 0x4, stream: 1, payload: Array("f".utf8)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x0, flags: 0x8, stream: 3, payload: [3] + Array("body".utf8) + [0, 0, 0]))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0xfa, flags: 0xff, stream: 7, payload: [1, 2, 3]))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x6, stream: 0, payload: ClientFrames.u64(42)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x6, flags: 0x1, stream: 0, payload: ClientFrames.u64(7)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x8, stream: 0x8000_0003, payload: ClientFrames.u32(0x8000_0100)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x3, stream: 3, payload: ClientFrames.u32(8)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x2, stream: 5, payload: [0, 0, 0, 1, 16]))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x4, flags: 0x1, stream: 0))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x1, flags: 0x4, stream: 5, payload: Array("xyz".utf8)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x7, stream: 0, payload: ClientFrames.u32(5) + ClientFrames.u32(0) + Array("bye".utf8)))
        return buffer
    }

    var richFrames: [Frame] {
        [
            .settings(HTTP2SettingsList(payload: ByteBuffer(bytes: [0, 4, 0, 0x10, 0, 0, 0, 2, 0, 0, 0, 0]))),
            .headers(streamID: 1, fieldBlock: ByteBuffer(string: "abcdef"), endStream: true),
            .data(streamID: 3, payload: ByteBuffer(string: "body"), endStream: false, flowControlledLength: 8),
            .ping(opaque: 42),
            .pingAck(opaque: 7),
            .windowUpdate(streamID: 3, increment: 0x100),
            .rstStream(streamID: 3, code: .cancel),
            .priority(streamID: 5),
            .settingsAck,
            .headers(streamID: 5, fieldBlock: ByteBuffer(string: "xyz"), endStream: false),
            .goAway(lastStreamID: 5, code: .noError),
        ]
    }

    @Test func decodesEveryFrameType() throws {
        var decoder = self.makeDecoder()
        var buffer = self.richStream
        #expect(try self.frames(&buffer, &decoder) == self.richFrames)
        #expect(buffer.readableBytes == 0)
    }

    @Test func sameFramesAtEverySplitPoint() throws {
        let whole = self.richStream
        for split in 0...whole.readableBytes {
            var decoder = self.makeDecoder()
            var buffer = whole.getSlice(at: whole.readerIndex, length: split)!
            var frames = try self.frames(&buffer, &decoder)
            buffer.writeImmutableBuffer(whole.getSlice(at: whole.readerIndex + split, length: whole.readableBytes - split)!)
            frames += try self.frames(&buffer, &decoder)
            #expect(frames == self.richFrames, "split at \(split)")
        }
    }

    @Test func sameFramesFedByteByByte() throws {
        let whole = self.richStream
        var decoder = self.makeDecoder()
        var buffer = ByteBuffer()
        var frames: [Frame] = []
        for byte in whole.readableBytesView {
            buffer.writeInteger(byte)
            frames += try self.frames(&buffer, &decoder)
        }
        #expect(frames == self.richFrames)
    }

    @Test func dataPayloadIsASliceOfTheInput() throws {
        var decoder = self.makeDecoder()
        var buffer = ClientFrames.opening
        buffer.writeImmutableBuffer(ClientFrames.data(stream: 1, Array(repeating: 7, count: 100)))
        let inputBase = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } - UInt(buffer.readerIndex)
        _ = try decoder.next(from: &buffer)
        guard case .data(_, let payload, _, _) = try decoder.next(from: &buffer) else {
            Issue.record("expected DATA")
            return
        }
        let payloadBase = payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(payloadBase == inputBase + UInt(ClientFrames.opening.readableBytes + 9))
    }

    // MARK: - Preface

    @Test func wrongPrefaceFailsAtItsFirstWrongByte() {
        var decoder = self.makeDecoder()
        var buffer = ByteBuffer(string: "PRI")
        #expect((try? decoder.next(from: &buffer)) == .some(nil))
        buffer.writeString(" / HTTP/1.1")
        #expect(throws: HTTP2ConnectionError.self) { try decoder.next(from: &buffer) }
        var http1 = self.makeDecoder()
        var get = ByteBuffer(string: "GET / HTTP/1.1\r\n")
        #expect { try http1.next(from: &get) } throws: { ($0 as? HTTP2ConnectionError)?.code == .protocolError }
    }

    @Test func prefaceMustBeFollowedBySettings() {
        var buffer = ClientFrames.preface
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x6, stream: 0, payload: ClientFrames.u64(1)))
        var decoder = self.makeDecoder()
        #expect { try self.frames(&buffer, &decoder) } throws: { ($0 as? HTTP2ConnectionError)?.code == .protocolError }
        var ack = ClientFrames.preface
        ack.writeImmutableBuffer(ClientFrames.frame(type: 0x4, flags: 0x1, stream: 0))
        var second = self.makeDecoder()
        #expect { try self.frames(&ack, &second) } throws: { ($0 as? HTTP2ConnectionError)?.code == .protocolError }
    }

    // MARK: - Sizes

    @Test func frameOverMaxFrameSizeIsRefusedFromItsHeader() {
        var decoder = self.makeDecoder()
        var buffer = ClientFrames.opening
        // Only the header of a 16 385-byte DATA frame: no need to wait for the payload.
        buffer.writeInteger(UInt32(16_385) << 8)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(1))
        #expect { try self.frames(&buffer, &decoder) } throws: { ($0 as? HTTP2ConnectionError)?.code == .frameSizeError }
        // 16 384 is fine.
        #expect(self.error(after: ClientFrames.data(stream: 1, Array(repeating: 0, count: 16_384))) == nil)
    }

    @Test func fixedLengthsAreConnectionErrors() {
        let wrong: [ByteBuffer] = [
            ClientFrames.frame(type: 0x6, stream: 0, payload: [0, 0, 0, 0, 0, 0]),  // PING of 6
            ClientFrames.frame(type: 0x6, flags: 0x1, stream: 0, payload: Array(repeating: 0, count: 9)),
            ClientFrames.frame(type: 0x3, stream: 1, payload: [0, 0, 0]),  // RST_STREAM of 3
            ClientFrames.frame(type: 0x8, stream: 1, payload: [0, 0, 0, 1, 0]),  // WINDOW_UPDATE of 5
            ClientFrames.frame(type: 0x2, stream: 1, payload: [0, 0, 0, 0]),  // PRIORITY of 4
            ClientFrames.frame(type: 0x4, stream: 0, payload: [0, 0, 0, 0, 0, 0, 0]),  // SETTINGS of 7
            ClientFrames.frame(type: 0x4, flags: 0x1, stream: 0, payload: [0, 4, 0, 0, 0, 0]),  // ACK with a payload
            ClientFrames.frame(type: 0x7, stream: 0, payload: [0, 0, 0, 0, 0, 0, 0]),  // GOAWAY of 7
        ]
        for frame in wrong {
            #expect(self.error(after: frame)?.code == .frameSizeError, "\(frame.readableBytesView.prefix(9).map { $0 })")
        }
    }

    // MARK: - Stream identifiers

    @Test func streamZeroRules() {
        for type: UInt8 in [0x0, 0x1, 0x2, 0x3] {
            let payload: [UInt8] = type == 0x2 ? [0, 0, 0, 0, 0] : type == 0x3 ? [0, 0, 0, 0] : []
            #expect(self.error(after: ClientFrames.frame(type: type, flags: 0x4, stream: 0, payload: payload))?.code == .protocolError)
        }
        #expect(self.error(after: ClientFrames.frame(type: 0x4, stream: 1))?.code == .protocolError)
        #expect(self.error(after: ClientFrames.frame(type: 0x6, stream: 1, payload: ClientFrames.u64(0)))?.code == .protocolError)
        #expect(self.error(after: ClientFrames.frame(type: 0x7, stream: 1, payload: ClientFrames.u64(0)))?.code == .protocolError)
        // WINDOW_UPDATE is valid on both.
        #expect(self.error(after: ClientFrames.frame(type: 0x8, stream: 0, payload: ClientFrames.u32(1))) == nil)
    }

    @Test func pushPromiseFromAClientIsAProtocolError() {
        #expect(self.error(after: ClientFrames.frame(type: 0x5, flags: 0x4, stream: 1, payload: ClientFrames.u32(2)))?.code == .protocolError)
    }

    // MARK: - Padding

    @Test func paddingIsRemovedAndChecked() throws {
        // Pad length 4 with 5 bytes of payload after it: one data byte.
        var decoder = self.makeDecoder()
        var buffer = ClientFrames.opening
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x0, flags: 0x8, stream: 1, payload: [4, 9, 0, 0, 0, 0]))
        // Padding only: no data at all.
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x0, flags: 0x9, stream: 1, payload: [2, 0, 0]))
        let frames = try self.frames(&buffer, &decoder)
        #expect(
            frames.dropFirst() == [
                .data(streamID: 1, payload: ByteBuffer(bytes: [9]), endStream: false, flowControlledLength: 6),
                .data(streamID: 1, payload: ByteBuffer(), endStream: true, flowControlledLength: 3),
            ])
        // §6.1: padding as long as the payload or longer.
        #expect(self.error(after: ClientFrames.frame(type: 0x0, flags: 0x8, stream: 1, payload: [3, 0, 0]))?.code == .protocolError)
        #expect(self.error(after: ClientFrames.frame(type: 0x0, flags: 0x8, stream: 1, payload: [1]))?.code == .protocolError)
        // No room for the pad length itself.
        #expect(self.error(after: ClientFrames.frame(type: 0x0, flags: 0x8, stream: 1))?.code == .frameSizeError)
        // HEADERS: the padding may not reach into the priority fields.
        #expect(
            self.error(after: ClientFrames.frame(type: 0x1, flags: 0x2c, stream: 1, payload: [1, 0, 0, 0, 0, 16]))?.code == .protocolError)
        #expect(self.error(after: ClientFrames.frame(type: 0x1, flags: 0x24, stream: 1, payload: [0, 0, 0]))?.code == .frameSizeError)
    }

    // MARK: - Field blocks

    @Test func continuationMustFollowWithoutInterruption() {
        let headers = ClientFrames.frame(type: 0x1, stream: 1, payload: [0x82])
        // Another stream's CONTINUATION.
        #expect(self.error(after: headers, ClientFrames.frame(type: 0x9, flags: 0x4, stream: 3, payload: [0x84]))?.code == .protocolError)
        // Any other frame in between, even one of an unknown type.
        #expect(self.error(after: headers, ClientFrames.data(stream: 1, [1]))?.code == .protocolError)
        #expect(self.error(after: headers, ClientFrames.frame(type: 0x6, stream: 0, payload: ClientFrames.u64(0)))?.code == .protocolError)
        #expect(self.error(after: headers, ClientFrames.frame(type: 0xee, stream: 0))?.code == .protocolError)
        // CONTINUATION out of nowhere, or after a block that had ended.
        #expect(self.error(after: ClientFrames.frame(type: 0x9, flags: 0x4, stream: 1, payload: [0x84]))?.code == .protocolError)
        let ended = ClientFrames.frame(type: 0x1, flags: 0x4, stream: 1, payload: [0x82])
        #expect(self.error(after: ended, ClientFrames.frame(type: 0x9, flags: 0x4, stream: 1, payload: [0x84]))?.code == .protocolError)
    }

    @Test func continuationFloodIsCappedBeforeItGrows() {
        var decoder = self.makeDecoder(cap: 1000)
        var buffer = ClientFrames.opening
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x1, stream: 1, payload: Array(repeating: 0, count: 400)))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x9, stream: 1, payload: Array(repeating: 0, count: 400)))
        #expect((try? self.frames(&buffer, &decoder)) == [ClientFrames.settingsFrame])
        // The fragment that would take the block past 1000 bytes is a connection error.
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x9, stream: 1, payload: Array(repeating: 0, count: 201)))
        #expect { try self.frames(&buffer, &decoder) } throws: { ($0 as? HTTP2ConnectionError)?.code == .enhanceYourCalm }
        // So is a single HEADERS frame over the cap.
        #expect(self.error(after: ClientFrames.frame(type: 0x1, flags: 0x4, stream: 1, payload: Array(repeating: 0, count: 1001)), cap: 1000) != nil)
    }

    @Test func unknownFrameTypesAreIgnored() throws {
        var decoder = self.makeDecoder()
        var buffer = ClientFrames.opening
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x10, stream: 0, payload: [1, 2, 3]))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0xff, flags: 0xff, stream: 9))
        buffer.writeImmutableBuffer(ClientFrames.frame(type: 0x6, stream: 0, payload: ClientFrames.u64(3)))
        #expect(try self.frames(&buffer, &decoder) == [ClientFrames.settingsFrame, .ping(opaque: 3)])
    }
}

extension ClientFrames {
    /// The empty SETTINGS of `opening`, as decoded.
    static var settingsFrame: HTTP2FrameDecoder.Frame { .settings(HTTP2SettingsList(payload: ByteBuffer())) }
}
