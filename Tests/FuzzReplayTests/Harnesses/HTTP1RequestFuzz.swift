import BerthConfig
import BerthStatic
import NIOCore
import NIOHTTP1

@testable import BerthServer

/// The bytes a client sends on an HTTP/1.1 connection, through `HTTP1RequestParser` as
/// `HTTP1Connection` feeds it, and each head through `RequestHeadCheck`. What must hold for any
/// input, since a disagreement about where a request ends is request smuggling:
/// - the parts do not depend on how the bytes were split into reads;
/// - body bytes are input bytes, taken in order, never more than Content-Length declares;
/// - a head serialized again parses to the same head and the same framing;
/// - a head whose body the parser cannot follow is refused, and the connection closed.
enum HTTP1RequestFuzz {
    /// Small limits, so that short inputs reach them.
    static let limits: ConnectionLimits = {
        var limits = ConnectionLimits(Limits())
        limits.headerBytes = 256
        limits.headerCount = 8
        limits.uriBytes = 128
        limits.bodyBytes = 4096
        return limits
    }()

    /// The parser as the codec builds it.
    static var parser: HTTP1RequestParser {
        HTTP1RequestParser(maxHeaderBytes: limits.headerBytes, maxHeaderCount: limits.headerCount, maxHeadBytes: limits.maxHeadBytes)
    }

    /// The same without the budget for an unfinished head. That check looks at what is buffered
    /// so far, so it depends on how the bytes were split, by design: a complete head that
    /// arrives in one read is not refused by it, and the connection guard enforces the budget
    /// on the reads themselves. Split comparisons use this parser.
    static var splitParser: HTTP1RequestParser {
        HTTP1RequestParser(maxHeaderBytes: limits.headerBytes, maxHeaderCount: limits.headerCount, maxHeadBytes: .max)
    }

    /// For re-parsing serialized heads, which may be longer than the original (a space after
    /// each colon, U+FFFD for each invalid UTF-8 byte).
    static let unlimited = HTTP1RequestParser(maxHeaderBytes: 1 << 30, maxHeaderCount: 1 << 20, maxHeadBytes: .max)

    static func run(_ input: FuzzInput) {
        let whole = Self.parse(input, cuts: [], parser: Self.splitParser, checking: true)

        // The same bytes in other reads: every split point of a short input, one byte at a
        // time, and splits picked from the input's hash for long ones.
        let count = input.bytes.count
        var splits: [[Int]] = []
        if count <= 64 {
            splits += (0...count).map { [$0] }
        } else {
            var random = SplitMix(seed: Self.hash(input.bytes))
            splits += (0..<12).map { _ in [Int(random.next() % UInt64(count + 1))] }
            splits += (0..<4).map { _ in (0..<4).map { _ in Int(random.next() % UInt64(count + 1)) }.sorted() }
        }
        if count <= 256 { splits.append(Array(0...count)) }
        for cuts in splits {
            let split = Self.parse(input, cuts: cuts, parser: Self.splitParser, checking: false)
            input.require(split == whole, "reads split at \(cuts) give \(split), in one read \(whole)")
        }

        // With the head budget, the parse can only stop earlier, never differ.
        let limited = Self.parse(input, cuts: [], parser: Self.parser, checking: false)
        input.require(
            limited == whole || (limited.failed && whole.events.starts(with: limited.events)),
            "the head budget changed the parse: \(limited), without it \(whole)")
    }

    // MARK: - Parsing as the codec does

    enum Event: Equatable, CustomStringConvertible {
        /// A head and the input offset right after it.
        case head(HTTPRequestHead, end: Int)
        /// Body bytes, adjacent pieces joined, and the offset after the last of them.
        case body(count: Int, end: Int)
        case end(at: Int)

        var description: String {
            switch self {
            case .head(let head, let end): return "head(\(head.method.rawValue) \(head.uri) \(head.headers.count) fields, to \(end))"
            case .body(let count, let end): return "body(\(count), to \(end))"
            case .end(let at): return "end(at \(at))"
            }
        }
    }

    struct Outcome: Equatable, CustomStringConvertible {
        var events: [Event] = []
        var failed = false
        /// Input bytes the parser took; the rest waits for more. Not counted after an error:
        /// the codec drops everything then, and the parser may or may not have taken the bad line.
        var consumed = 0

        var description: String { "\(self.events)\(self.failed ? " then an error" : ""), \(self.consumed) bytes consumed" }
    }

    /// Feeds the input in reads ending at `cuts`, parsing all that each read completes, until
    /// the input ends or the parser throws (after which the codec reads nothing more).
    static func parse(_ input: FuzzInput, cuts: [Int], parser: HTTP1RequestParser, checking: Bool) -> Outcome {
        var parser = parser
        var buffer = ByteBuffer()
        var outcome = Outcome()
        var track = BodyTrack()
        var fed = 0
        // The buffer is never compacted, so its reader index is the offset in the input.
        reading: for cut in cuts + [input.bytes.count] where cut >= fed {
            buffer.writeBytes(input.bytes[fed..<cut])
            fed = cut
            while true {
                let start = buffer.readerIndex
                let atHead = parser.isBetweenRequests
                let part: HTTP1RequestParser.Part?
                do {
                    part = try parser.next(from: &buffer)
                } catch {
                    outcome.failed = true
                    break reading
                }
                guard let part else { break }
                let end = buffer.readerIndex
                switch part {
                case .head(let head):
                    input.require(atHead, "a head arrived in the middle of a request")
                    // The parser reads the Connection fields as it goes; NIO's search of the
                    // parsed fields must agree.
                    input.require(parser.keepsAlive == head.isKeepAlive,
                                  "keep-alive \(parser.keepsAlive) from the parser, \(head.isKeepAlive) from the fields")
                    outcome.events.append(.head(head, end: end))
                    if checking { track = Self.checkHead(head, bytes: Array(input.bytes[start..<end]), input) }
                case .body(let slice):
                    input.require(!atHead && slice.readableBytes > 0, "an empty body part, or one without a head")
                    // A slice of what was just consumed: the body is the input, in order.
                    input.require(
                        slice.readableBytesView.elementsEqual(input.bytes[(end - slice.readableBytes)..<end]),
                        "body bytes are not the input bytes just consumed")
                    if case .body(let count, _) = outcome.events.last {
                        outcome.events[outcome.events.count - 1] = .body(count: count + slice.readableBytes, end: end)
                    } else {
                        outcome.events.append(.body(count: slice.readableBytes, end: end))
                    }
                    track.received += slice.readableBytes
                    if checking { track.check(input, complete: false) }
                case .end:
                    input.require(!atHead, "an end without a head")
                    outcome.events.append(.end(at: end))
                    if checking { track.check(input, complete: true) }
                    track = BodyTrack()
                }
            }
        }
        outcome.consumed = outcome.failed ? 0 : buffer.readerIndex
        return outcome
    }

    /// The body expected after the last head.
    struct BodyTrack {
        var framing = HTTP1RequestParser.Framing.none
        var received = 0

        func check(_ input: FuzzInput, complete: Bool) {
            switch self.framing {
            case .none:
                input.require(self.received == 0, "body bytes for a request without a body")
            case .length(let length):
                input.require(self.received <= length, "\(self.received) body bytes for Content-Length \(length)")
                input.require(!complete || self.received == length, "the body ended after \(self.received) of \(length) bytes")
            case .chunked:
                break
            case .unusable:
                input.require(false, "parts after a head whose body cannot be framed")
            }
        }
    }

    // MARK: - One head

    /// Checks a head parsed from `bytes` (exactly its bytes) and returns what its body must be.
    static func checkHead(_ head: HTTPRequestHead, bytes: [UInt8], _ input: FuzzInput) -> BodyTrack {
        guard let (again, framing) = Self.parseHead(bytes) else {
            input.require(false, "the head's own bytes do not parse to a head")
            fatalError()
        }
        input.require(Self.fields(again) == Self.fields(head), "the head's own bytes parse to another head")

        // Serialized again (as a proxy in front of Berth would forward it), it means the same.
        let serialized = Self.serialize(head)
        guard let (reparsed, reframing) = Self.parseHead(serialized) else {
            input.require(false, "the serialized head does not parse: \(FuzzInput.escaped(serialized))")
            fatalError()
        }
        input.require(reparsed.method == head.method && reparsed.uri == head.uri && reparsed.version == head.version,
            "the serialized head has another request line: \(FuzzInput.escaped(serialized))")
        input.require(Self.fields(reparsed) == Self.fields(head), "the serialized head has other fields: \(FuzzInput.escaped(serialized))")
        input.require(reframing == framing, "the serialized head frames its body as \(reframing), the original as \(framing)")

        switch RequestHeadCheck.check(head, limits: Self.limits) {
        case .success(let accepted):
            // The handler waits for the body the check announces; the parser must deliver it.
            input.require(framing != .unusable, "a head the parser stops at was accepted: \(accepted)")
            let parserExpectsBody: Bool
            switch framing {
            case .chunked: parserExpectsBody = true
            case .length(let length): parserExpectsBody = length > 0
            case .none, .unusable: parserExpectsBody = false
            }
            input.require(accepted.expectsBody == parserExpectsBody, "the check expects a body \(accepted.expectsBody), the parser \(parserExpectsBody)")
            input.require(head.uri.utf8.count <= Self.limits.uriBytes, "a request target over the limit was accepted")
            RequestTargetFuzz.checkNormalized(accepted.target, input)
        case .failure(let rejected):
            // The parser drops everything after such a head: only closing keeps both in step.
            input.require(framing != .unusable || rejected.mustClose, "an unframed head was refused without closing: \(rejected)")
        }
        return BodyTrack(framing: framing)
    }

    static func parseHead(_ bytes: [UInt8]) -> (HTTPRequestHead, HTTP1RequestParser.Framing)? {
        var buffer = ByteBuffer(bytes: bytes)
        guard let parsed = try? HTTP1RequestParser.parseHead(from: &buffer, limits: Self.unlimited) else { return nil }
        return buffer.readableBytes == 0 ? (parsed.0, parsed.1) : nil
    }

    /// Names and values in order, exactly as received (HTTPHeaders' own == ignores order).
    static func fields(_ head: HTTPRequestHead) -> [String] {
        head.headers.map { $0.name + ":" + $0.value }
    }

    static func serialize(_ head: HTTPRequestHead) -> [UInt8] {
        var text = "\(head.method.rawValue) \(head.uri) HTTP/\(head.version.major).\(head.version.minor)\r\n"
        for (name, value) in head.headers {
            text += name + ": " + value + "\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    // MARK: - Deterministic split points

    /// FNV-1a: the same input always gets the same splits, so a failure reproduces.
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    struct SplitMix {
        var state: UInt64

        init(seed: UInt64) { self.state = seed }

        mutating func next() -> UInt64 {
            self.state &+= 0x9e37_79b9_7f4a_7c15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }
}
