import NIOCore
import NIOHPACK
import NIOHTTP1

@testable import BerthServer

/// HPACK both ways (RFC 7541). The first byte picks the direction.
///
/// Even: the rest is a run of request field blocks, each `[flags][length][bytes]` (flags: bit 0
/// END_STREAM, bit 1 on the previous block's stream, as trailers; bit 2 a two-byte length),
/// received as HEADERS by `HTTP2ConnectionState`, with NIOHPACK's decoder fed the same blocks
/// beside it as the oracle. What must hold:
/// - a block the oracle cannot decode ends the connection with COMPRESSION_ERROR (or
///   ENHANCE_YOUR_CALM for one over SETTINGS_MAX_HEADER_LIST_SIZE); one it can never does;
/// - a request that breaks a rule of RFC 9113 §8.2–§8.3 the oracle can see is refused with
///   RST_STREAM PROTOCOL_ERROR; an accepted one carries the block's method, path and fields;
/// - afterwards the dynamic table still works: a valid block that resets and refills it
///   decodes to exactly its fields, unless the connection already ended.
///
/// Odd: the rest is a status and a list of fields, each `[length][name][length][value]`,
/// encoded by `HPACKResponseEncoder` and framed by `HTTP2FrameWriter` into frames of a few
/// bytes. NIOHPACK decodes the block to `:status` and the same fields, names lowercased,
/// pseudo- and connection-specific fields dropped, values byte for byte; the frame decoder
/// puts the fragments back together.
enum HPACKFuzz {
    /// Small, so that a few kilobytes of indexed fields reach it.
    static let maxHeaderListSize = 2048

    static func run(_ input: FuzzInput) {
        guard let mode = input.bytes.first else { return }
        if mode & 1 == 0 {
            Self.decodeRequests(input.bytes.dropFirst(), input)
        } else {
            Self.encodeResponse(input.bytes.dropFirst(), mode: mode, input)
        }
    }

    // MARK: - Request blocks

    struct Block {
        var bytes: [UInt8]
        var endStream: Bool
        var sameStream: Bool
    }

    static func blocks(_ bytes: ArraySlice<UInt8>) -> [Block] {
        var rest = bytes
        var blocks: [Block] = []
        while let flags = rest.popFirst() {
            var length = Int(rest.popFirst() ?? 0)
            if flags & 4 != 0 { length = length << 8 | Int(rest.popFirst() ?? 0) }
            let block = rest.prefix(length)
            rest = rest.dropFirst(length)
            blocks.append(Block(bytes: Array(block), endStream: flags & 1 != 0, sameStream: flags & 2 != 0))
        }
        return blocks
    }

    static func decodeRequests(_ bytes: ArraySlice<UInt8>, _ input: FuzzInput) {
        var state = HTTP2ConnectionState(maxHeaderListSize: Self.maxHeaderListSize)
        var output = ByteBuffer()
        state.start(output: &output)
        // A second apart, so the flood guard stays out of the way of 200 malformed requests.
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var oracle = HPACKDecoder(
            allocator: ByteBufferAllocator(), maxDynamicTableSize: HPACKDecoder.maxDynamicTableSize, maxHeaderListSize: Self.maxHeaderListSize)
        var streamID: UInt32 = 1
        var opened: [UInt32] = []
        var closed = false

        for (index, block) in Self.blocks(bytes).enumerated() {
            if index > 0 && !block.sameStream { streamID += 2 }
            now = now + .seconds(1)
            let activeBefore = state.streams.activeCount
            let stateBefore = state.state(ofStream: streamID)
            output.clear()
            let action = state.receive(
                .headers(streamID: streamID, fieldBlock: ByteBuffer(bytes: block.bytes), endStream: block.endStream), now: now, output: &output)
            let written = ServerFramesView(output)
            var oracleBlock = ByteBuffer(bytes: block.bytes)
            let fields: HPACKHeaders
            do {
                fields = try oracle.decodeHeaders(from: &oracleBlock)
            } catch {
                let expected: HTTP2ErrorCode = error is NIOHPACKErrors.MaxHeaderListSizeViolation ? .enhanceYourCalm : .compressionError
                input.require(
                    action == .closeConnection && written.goAwayCodes == [expected],
                    "block \(index) the oracle refuses (\(error)) gave \(action), GOAWAY \(written.goAwayCodes)")
                closed = true
                break
            }
            input.require(
                !written.goAwayCodes.contains(.compressionError) && !written.goAwayCodes.contains(.enhanceYourCalm),
                "block \(index), which decodes, ended the connection: \(written.goAwayCodes)")

            if stateBefore == .idle {
                Self.checkRequest(fields, action: action, streamID: streamID, endStream: block.endStream, activeBefore: activeBefore, written, input)
                if case .requestHead = action { opened.append(streamID) }
            } else {
                // Trailers, or a block on a stream that is over.
                if case .requestEnd = action {
                    input.require(
                        fields.allSatisfy { !$0.name.hasPrefix(":") && Self.isValidName($0.name) && Self.isValidValue($0.value) },
                        "invalid trailers accepted: \(Self.describe(fields))")
                }
            }
            if action == .closeConnection {
                closed = true
                break
            }
        }
        guard !closed else { return }

        // The table still works: the server gives up on what is open (so the probe is not
        // refused for concurrency), then a block that empties and refills the table.
        for stream in opened { _ = state.resetStream(streamID: stream, code: .cancel, output: &output) }
        streamID += 2
        let action = state.receive(.headers(streamID: streamID, fieldBlock: ByteBuffer(bytes: Self.probeBlock), endStream: true), now: now, output: &output)
        guard case .requestHead(streamID, let head, nil, true) = action else {
            input.require(false, "the probe block after the fuzzed ones gave \(action)")
            return
        }
        input.require(
            head.method == .GET && head.uri == "/" && head.headers.map({ "\($0.name): \($0.value)" }) == ["x-probe: 1", "x-probe: 1", "host: probe.test"],
            "the probe block decoded to \(head)")
    }

    /// Two table size updates (to 0, emptying the table, then back to 4 096), three static
    /// entries, `:authority` and `x-probe` added to the table, then `x-probe` by its index.
    static let probeBlock: [UInt8] =
        [0x20, 0x3f, 0xe1, 0x1f, 0x82, 0x87, 0x84]
        + [0x41, 10] + Array("probe.test".utf8)
        + [0x40, 7] + Array("x-probe".utf8) + [1, UInt8(ascii: "1")]
        + [0xbe]

    /// A first block on a stream, as decoded by the oracle: refused when it breaks a rule
    /// visible in its fields, else a head faithful to them.
    static func checkRequest(
        _ fields: HPACKHeaders, action: HTTP2ConnectionState.Action, streamID: UInt32, endStream: Bool, activeBefore: Int,
        _ written: ServerFramesView, _ input: FuzzInput
    ) {
        let refusal = Self.mustRefuse(fields, endStream: endStream)
        guard case .requestHead(streamID, let head, let contentLength, endStream) = action else {
            input.require(action == .none, "a first block on stream \(streamID) gave \(action)")
            input.require(
                written.resetCodes == [.protocolError] || (activeBefore >= HTTP2ConnectionState.maxConcurrentStreams && written.resetCodes == [.refusedStream]),
                "a refused block on stream \(streamID) reset with \(written.resetCodes)")
            return
        }
        input.require(refusal == nil, "a request that \(refusal ?? "") was accepted: \(Self.describe(fields))")
        HTTP2FramesFuzz.checkHead(head, contentLength: contentLength, input)

        // The head is the block's: method, path, regular fields in order, cookies joined,
        // :authority as host when no host field came.
        let pseudo = Dictionary(fields.filter { $0.name.hasPrefix(":") }.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        input.require(Array(head.method.rawValue.utf8) == Array((pseudo[":method"] ?? "").utf8), "method \(head.method) from \(Self.describe(fields))")
        input.require(Array(head.uri.utf8) == Array((pseudo[":path"] ?? "").utf8), "path \(head.uri) from \(Self.describe(fields))")
        let regular = fields.filter { !$0.name.hasPrefix(":") }
        var expected = regular.filter { $0.name != "cookie" }.map { [UInt8]($0.name.utf8) + [0] + [UInt8]($0.value.utf8) }
        let hasHost = regular.contains { $0.name == "host" }
        if let authority = pseudo[":authority"], !hasHost { expected.append(Array("host".utf8) + [0] + Array(authority.utf8)) }
        let cookies = regular.filter { $0.name == "cookie" }.map(\.value)
        if !cookies.isEmpty { expected.append(Array("cookie".utf8) + [0] + Array(cookies.joined(separator: "; ").utf8)) }
        let actual = head.headers.map { [UInt8]($0.name.utf8) + [0] + [UInt8]($0.value.utf8) }
        input.require(actual == expected, "head fields \(head.headers) from \(Self.describe(fields))")
    }

    /// A rule of RFC 9113 §8.1–§8.3 the fields break, if any.
    static func mustRefuse(_ fields: HPACKHeaders, endStream: Bool) -> String? {
        var seenRegular = false
        var pseudo: [String: String] = [:]
        var lengths: Set<String> = []
        for (name, value, _) in fields {
            if !Self.isValidValue(value) { return "has a value with NUL, CR, LF or edge whitespace" }
            if name.hasPrefix(":") {
                if seenRegular { return "has a pseudo-field after a regular one" }
                guard [":method", ":scheme", ":path", ":authority"].contains(where: { Array($0.utf8) == Array(name.utf8) }) else {
                    return "has pseudo-field \(name)"
                }
                if pseudo[name] != nil { return "repeats \(name)" }
                pseudo[name] = value
                continue
            }
            seenRegular = true
            if !Self.isValidName(name) { return "has field name \(name)" }
            if HPACKResponseEncoder.isConnectionSpecific(name) { return "has connection-specific \(name)" }
            if name == "te" && value != "trailers" && value.lowercased() != "trailers" { return "has te: \(value)" }
            if name == "content-length" {
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return "has content-length \(value)" }
                lengths.insert(String(value.drop { $0 == "0" }))
            }
        }
        guard let method = pseudo[":method"], let path = pseudo[":path"], let scheme = pseudo[":scheme"] else { return "lacks :method, :scheme or :path" }
        if method.isEmpty || scheme.isEmpty || method == "CONNECT" { return "has method \(method), scheme \(scheme)" }
        if !(path.hasPrefix("/") || (path == "*" && method == "OPTIONS")) { return "has path \(path)" }
        if lengths.count > 1 { return "has differing content-lengths" }
        if endStream, let length = lengths.first, !length.isEmpty { return "ends the stream with content-length \(length)" }
        return nil
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && !($0 >= 0x41 && $0 <= 0x5a) && $0 != UInt8(ascii: ":") }
    }

    static func isValidValue(_ value: String) -> Bool {
        let utf8 = Array(value.utf8)
        if let first = utf8.first, first == 0x20 || first == 0x09 { return false }
        if let last = utf8.last, last == 0x20 || last == 0x09 { return false }
        return !utf8.contains { $0 == 0 || $0 == 0x0a || $0 == 0x0d }
    }

    static func describe(_ fields: HPACKHeaders) -> String {
        fields.map { FuzzInput.escaped(Array($0.name.utf8)) + ": " + FuzzInput.escaped(Array($0.value.utf8)) }.joined(separator: ", ")
    }

    // MARK: - Response blocks

    static func encodeResponse(_ bytes: ArraySlice<UInt8>, mode: UInt8, _ input: FuzzInput) {
        var rest = bytes
        let status = 100 + (Int(rest.popFirst() ?? 0) << 8 | Int(rest.popFirst() ?? 0)) % 900
        var fields: [(name: String, value: String)] = []
        while !rest.isEmpty {
            let nameLength = Int(rest.popFirst() ?? 0)
            let name = rest.prefix(nameLength)
            rest = rest.dropFirst(nameLength)
            let valueLength = Int(rest.popFirst() ?? 0)
            let value = rest.prefix(valueLength)
            rest = rest.dropFirst(valueLength)
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }

        // The block as HTTP2Connection builds it: any names, or (ASCII names only, as
        // HTTPHeaders requires) through writeResponse; after a table size update if asked.
        var block = ByteBuffer()
        if mode & 2 != 0 { HPACKResponseEncoder.writeTableSizeUpdateToZero(into: &block) }
        let asciiOnly = mode & 4 != 0
        if asciiOnly {
            fields = fields.map { (String(decoding: $0.name.utf8.map { $0 & 0x7f }, as: UTF8.self), $0.value) }
            HPACKResponseEncoder.writeResponse(status: status, headers: HTTPHeaders(fields.map { ($0.name, $0.value) }), into: &block)
        } else {
            HPACKResponseEncoder.writeStatus(status, into: &block)
            let prepared = HPACKPreparedFields(fields)
            prepared.write(into: &block)
        }

        var decoder = HPACKDecoder(allocator: ByteBufferAllocator(), maxDynamicTableSize: 4096, maxHeaderListSize: 1 << 30)
        var copy = block
        let decoded: HPACKHeaders
        do {
            decoded = try decoder.decodeHeaders(from: &copy)
        } catch {
            input.require(false, "the response block does not decode: \(error)")
            return
        }
        var expected = [Array(":status".utf8) + [0] + Array(String(status).utf8)]
        for (name, value) in fields {
            let lowercased = name.utf8.map { $0 >= 0x41 && $0 <= 0x5a ? $0 | 0x20 : $0 }
            guard let first = lowercased.first, first != UInt8(ascii: ":"),
                !HPACKResponseEncoder.isConnectionSpecific(String(decoding: lowercased, as: UTF8.self))
            else { continue }
            expected.append(lowercased + [0] + Array(value.utf8))
        }
        let actual = decoded.map { Array($0.name.utf8) + [0] + Array($0.value.utf8) }
        input.require(actual == expected, "the response block decodes to \(Self.describe(decoded))")
        // It left nothing in the client's table: decoded again, it means the same.
        copy = block
        input.require((try? decoder.decodeHeaders(from: &copy)) == decoded, "the response block decodes differently a second time")

        // Framed in small pieces, the frame decoder puts the block back together.
        let maxFrameSize = 1 + Int(mode >> 3)
        var wire = ByteBuffer(bytes: HTTP2FrameDecoder.clientPreface + [0, 0, 0, 4, 0, 0, 0, 0, 0])
        HTTP2FrameWriter.writeHeaders(streamID: 1, fieldBlock: block, endStream: mode & 0x80 != 0, maxFrameSize: maxFrameSize, into: &wire)
        var frameDecoder = HTTP2FrameDecoder(maxFieldBlockBytes: 1 << 20)
        var frames: [HTTP2FrameDecoder.Frame] = []
        do {
            while let frame = try frameDecoder.next(from: &wire) { frames.append(frame) }
        } catch {
            input.require(false, "the framed response block does not parse: \(error)")
        }
        input.require(
            frames.dropFirst().elementsEqual([.headers(streamID: 1, fieldBlock: block, endStream: mode & 0x80 != 0)]) && wire.readableBytes == 0,
            "the block framed in \(maxFrameSize)-byte pieces reads back as \(frames.dropFirst())")
    }
}
