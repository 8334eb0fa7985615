import NIOCore
import NIOHTTP1

@testable import BerthServer

/// The bytes a client sends on an HTTP/2 connection, through `HTTP2FrameDecoder` into
/// `HTTP2ConnectionState` as `HTTP2Connection` feeds them, with a server on the other side
/// that answers each request as a plan drawn from the input says: at once, after the body, never
/// or with RST_STREAM; with or without a 100 first, a body of up to 70 000 bytes framed as
/// `sendableBytes` allows, the request body reported consumed or not. At the end of the input
/// it shuts down gracefully and resets what is left. What must hold for any input:
/// - the actions and every byte written do not depend on how the input was split into reads;
/// - after `.closeConnection` (a connection error included) nothing more is written, whatever
///   the server still tries;
/// - every frame written is one a strict client accepts (`HTTP2ClientView`);
/// - at most MAX_CONCURRENT_STREAMS streams are active; every exchange the server still runs
///   has its stream in the table, in the state its request says; a response waiting for window
///   waits because a window is closed;
/// - request heads have a method, a path starting with "/" (or "*" for OPTIONS) and no
///   connection-specific field, and request data is the DATA frames' payload, within
///   content-length.
///
/// Input: a configuration byte (see `Configuration`), a seed for the server's plans, then the
/// client's bytes.
enum HTTP2FramesFuzz {
    typealias Action = HTTP2ConnectionState.Action
    typealias Frame = HTTP2FrameDecoder.Frame

    /// Small, so that inputs of a few kilobytes reach the field block limits.
    static let maxHeaderListSize = 1024

    struct Configuration {
        enum Shutdown {
            case off
            case atStart
            case atFirstRequest
            /// At the first request, and the final GOAWAY three frames later, as when the
            /// client never acknowledges the PING.
            case finalAfterFirstRequest
        }

        /// Bit 0: the client preface and an empty SETTINGS frame go first, so the input
        /// starts with frames; else the preface is the input's too.
        var prependOpening: Bool
        /// Bit 1: every frame arrives at the same instant, so the flood limits are reachable.
        var frozenClock: Bool
        /// Bits 2–3.
        var shutdown: Shutdown
        /// Bits 4–5: the server's stream and connection receive windows.
        var streamWindow: Int
        var connectionWindow: Int
        var seed: UInt8

        init(_ bytes: [UInt8]) {
            let flags = bytes.first ?? 1
            self.prependOpening = flags & 1 != 0
            self.frozenClock = flags & 2 != 0
            let shutdowns: [Shutdown] = [.off, .atStart, .atFirstRequest, .finalAfterFirstRequest]
            self.shutdown = shutdowns[Int(flags >> 2 & 3)]
            let windows: [(stream: Int, connection: Int)] = [(65_535, 65_535), (1 << 20, 1 << 22), (65_535, 1 << 20), (1 << 17, 65_535)]
            (self.streamWindow, self.connectionWindow) = windows[Int(flags >> 4 & 3)]
            self.seed = bytes.count > 1 ? bytes[1] : 0
        }
    }

    static func run(_ input: FuzzInput) {
        let configuration = Configuration(input.bytes)
        var wire = configuration.prependOpening ? HTTP2FrameDecoder.clientPreface + [0, 0, 0, 4, 0, 0, 0, 0, 0] : []
        wire += input.bytes.dropFirst(2)

        let whole = Self.serve(wire, cuts: [], configuration, input, checking: true)
        // The same bytes in other reads: a few splits picked from the input's hash, and one byte
        // at a time. Every replay costs as much as the first, so there are few of them.
        let count = wire.count
        var random = HTTP1RequestFuzz.SplitMix(seed: HTTP1RequestFuzz.hash(input.bytes))
        var splits: [[Int]] = (0..<3).map { _ in [Int(random.next() % UInt64(count + 1))] }
        splits.append((0..<6).map { _ in Int(random.next() % UInt64(count + 1)) }.sorted())
        if count <= 512 { splits.append(Array(0...count)) }
        for cuts in splits {
            let split = Self.serve(wire, cuts: cuts, configuration, input, checking: false)
            input.require(split == whole, "reads split at \(cuts.count > 8 ? "every byte" : "\(cuts)") give \(split), in one read \(whole)")
        }
    }

    struct Outcome: Equatable, CustomStringConvertible {
        var actions: [Action] = []
        var output = ByteBuffer()
        var closed = false

        var description: String {
            "\(self.actions.count) actions (last \(self.actions.last.map { "\($0)" } ?? "none")), \(self.output.readableBytes) bytes written"
                + (self.closed ? ", closed" : "")
        }
    }

    /// Feeds `wire` in reads ending at `cuts`, taking every frame each read completes, until
    /// the input ends or the connection closes; then the server shuts down.
    static func serve(_ wire: [UInt8], cuts: [Int], _ configuration: Configuration, _ input: FuzzInput, checking: Bool) -> Outcome {
        var server = FuzzServer(configuration, input: input, checking: checking)
        var buffer = ByteBuffer()
        var fed = 0
        reading: for cut in cuts + [wire.count] where cut >= fed {
            buffer.writeBytes(wire[fed..<cut])
            fed = cut
            while !server.closed {
                let frame: Frame?
                do throws(HTTP2ConnectionError) {
                    frame = try server.decoder.next(from: &buffer)
                } catch {
                    server.decoderFailed(error)
                    break reading
                }
                guard let frame else { break }
                server.receive(frame)
            }
            if server.closed { break }
        }
        server.shutDown()
        let outcome = Outcome(actions: server.actions, output: server.output, closed: server.closed)
        if checking { server.probeAfterClose() }
        return outcome
    }

    // MARK: - Request heads

    /// RFC 9110 §5.6.2.
    static let tokenBytes = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    /// What `HTTP2RequestFields` promises of every head it lets through.
    static func checkHead(_ head: HTTPRequestHead, contentLength: Int?, _ input: FuzzInput) {
        input.require(head.version == .http2, "a request head of version \(head.version)")
        let method = head.method.rawValue
        input.require(
            !method.isEmpty && method != "CONNECT" && method.utf8.allSatisfy { Self.tokenBytes.contains($0) }, "request method \(method)")
        input.require(
            head.uri.utf8.first == UInt8(ascii: "/") || (head.uri == "*" && method == "OPTIONS"),
            "request path \(FuzzInput.escaped(Array(head.uri.utf8))) for \(method)")
        var lengths: [String] = []
        for (name, value) in head.headers {
            input.require(
                !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && !($0 >= 0x41 && $0 <= 0x5a) && $0 != UInt8(ascii: ":") },
                "request field name \(FuzzInput.escaped(Array(name.utf8)))")
            input.require(!HPACKResponseEncoder.isConnectionSpecific(name), "connection-specific request field \(name)")
            input.require(name != "te" || value.lowercased() == "trailers", "te: \(value)")
            input.require(!value.utf8.contains { $0 == 0 || $0 == 0x0a || $0 == 0x0d }, "NUL, CR or LF in \(name)")
            if name == "content-length" {
                input.require(!value.isEmpty && value.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }, "content-length: \(value)")
                lengths.append(value)
            }
        }
        input.require(contentLength == lengths.first.flatMap { Int($0) }, "content-length \(lengths) announced as \(String(describing: contentLength))")
        input.require(Set(lengths).count <= 1, "differing content-length fields \(lengths)")
    }
}
