import BerthStatic
import NIOCore
import NIOHTTP1

/// Content coding on the fly (gzip, Brotli) for whatever answers a path: static files (their
/// variants kept in the worker's `VariantCache`), app bodies whole or streamed, error pages and
/// listings. `CompressionPolicy` decides; this carries the decision out on the message: the
/// body, `Content-Encoding`, `Content-Length` (dropped for a stream: chunked or DATA frames
/// carry it), the variant's own `ETag`, no `Accept-Ranges` (ranges are of the identity body)
/// and `Vary: Accept-Encoding`, which identity answers of a candidate get as well.
enum CompressionFilter {
    /// The route's settings (the host's "/" route's before a route was found), nil when off.
    static func settings(host: VirtualHost?, route: PathRoute?) -> CompressionSettings? {
        if let route { return route.compression }
        return host?.route(for: "/")?.compression
    }

    /// - `answered`: the message before conditional evaluation, when the conditional filter
    ///   ran; a 304 that came of it is decided as that 200 was.
    /// - `loop`: where a large whole body is compressed a slice per tick (see `SlicedBody`);
    ///   without one it is compressed at once.
    /// - `variants`, `allocator` and `loop` are taken only for an answer that is compressed:
    ///   most are not (no Accept-Encoding, a type left alone), and fetching them costs a
    ///   reference count each.
    static func apply(
        to message: inout ResponseMessage, answered: ResponseMessage?, settings: CompressionSettings?, acceptEncoding: String?,
        variants: @autoclosure () -> VariantCache, allocator: @autoclosure () -> ByteBufferAllocator,
        loop: @autoclosure () -> EventLoop? = nil
    ) {
        guard let settings else { return }
        // Without Accept-Encoding the only possible change is `Vary: Accept-Encoding`: an
        // answer that says so already (a hot static file's) is left as it is, at once.
        if acceptEncoding == nil, message.prepared?.variesOnEncoding ?? Self.variesOnEncoding(message.fields) { return }
        guard let subject = Self.subject(of: message, answered: answered) else { return }
        let decision = CompressionPolicy.decide(
            status: subject.status, fields: subject.fields, contentType: subject.contentType, length: subject.length,
            streamed: subject.length == nil, acceptEncoding: acceptEncoding, settings: settings)
        switch decision {
        case .leave:
            return
        case .identity:
            Self.addVary(to: &message)
        case .compress(let coding) where message.status == 304:
            // A 304 carries the fields its 200 would have had for caching (RFC 9110 §15.4.5):
            // the tag of the variant this request would get. Whether that 200 would really
            // have shrunk is not known without compressing; a variant tag on an identity 200
            // only costs the client a full answer later.
            Self.markCompressed(&message, coding: coding, level: settings.level(of: coding), length: nil, notModified: true)
        case .compress(let coding):
            Self.compress(&message, coding: coding, level: settings.level(of: coding), length: subject.length, variants: variants(),
                          allocator: allocator(), loop: loop())
        }
    }

    /// What the decision is about: the answer's status, fields and body length (nil for a
    /// stream); for a 304, the 200 it stands for (a file's media type, which the 304 leaves
    /// out, from its source). Nil for a body that cannot be compressed here (multipart ranges,
    /// a file without its source).
    private static func subject(of message: ResponseMessage, answered: ResponseMessage?)
        -> (status: Int, fields: [(String, String)], contentType: String?, length: Int64?)?
    {
        let source = message.variantSource
        if message.status == 304 {
            if let source { return (200, message.fields, source.contentType, source.size) }
            guard let answered, answered.status == 200, case .bytes(let buffer) = answered.body else { return nil }
            return (200, answered.fields, nil, Int64(buffer.readableBytes))
        }
        switch message.body {
        case .bytes(let buffer): return (message.status, message.fields, nil, Int64(buffer.readableBytes))
        case .stream: return (message.status, message.fields, nil, nil)
        // A file, or the HEAD of one (the GET's fields, compressed length included).
        case .file, .empty: return source.map { (message.status, message.fields, nil, $0.size) }
        case .parts: return nil
        }
    }

    /// A whole body larger than this (an app's, a page's; static files have the variant cache)
    /// is compressed as a stream, a slice per event-loop tick, rather than in one go: 4 MiB at
    /// gzip's level 5 would hold the loop, and every other connection on it, for tens of
    /// milliseconds. Like nginx's gzip, such an answer goes chunked, without Content-Length.
    static let wholeBodySliceBytes = 64 * 1024

    private static func compress(
        _ message: inout ResponseMessage, coding: ContentCoding, level: Int, length: Int64?, variants: VariantCache,
        allocator: ByteBufferAllocator, loop: EventLoop?
    ) {
        if let loop, message.variantSource == nil, case .bytes(let buffer) = message.body,
            buffer.readableBytes > Self.wholeBodySliceBytes
        {
            message.body = .stream(SlicedBody.stream(buffer, sliceBytes: Self.wholeBodySliceBytes, loop: loop))
        }
        if case .stream(let stream) = message.body {
            guard let encoder = ContentEncoder(coding: coding, level: level) else { return Self.addVary(to: &message) }
            message.body = .stream(CompressingStream.wrap(stream, encoder: encoder, allocator: allocator))
            Self.markCompressed(&message, coding: coding, level: level, length: nil)
            return
        }
        var compressed: ByteBuffer?
        if let source = message.variantSource {
            compressed = variants.variant(of: source, coding: coding, level: level, allocator: allocator)
        } else if case .bytes(let buffer) = message.body {
            compressed = ContentEncoder.compress(buffer, coding: coding, level: level, allocator: allocator)
        }
        // A body that does not shrink goes as it is.
        guard let compressed, Int64(compressed.readableBytes) < length ?? 0 else { return Self.addVary(to: &message) }
        message.body = .bytes(compressed)
        Self.markCompressed(&message, coding: coding, level: level, length: compressed.readableBytes)
    }

    /// The fields of a compressed answer, or of a 304 standing for one. A hot file's answer
    /// has prepared fields: its variant's are marked once, prepared in the same forms and kept
    /// with the file's (the variant of one file at one level always has the same length).
    private static func markCompressed(
        _ message: inout ResponseMessage, coding: ContentCoding, level: Int, length: Int?, notModified: Bool = false
    ) {
        guard let prepared = message.prepared, message.variantSource != nil else {
            return Self.mark(&message, coding: coding, level: level, length: length, notModified: notModified)
        }
        // The message is copied only the first time, to mark it.
        let marked = prepared.variant(for: coding, level: level) {
            var marking = message
            Self.mark(&marking, coding: coding, level: level, length: length, notModified: notModified)
            return prepared.deriving(marking.fields, variesOnEncoding: true)
        }
        message.use(marked)
    }

    private static func mark(
        _ message: inout ResponseMessage, coding: ContentCoding, level: Int, length: Int?, notModified: Bool
    ) {
        var fields: [(String, String)] = []
        fields.reserveCapacity(message.fields.count + 3)
        var hasVary = false
        for (name, value) in message.fields {
            if name.caseInsensitiveEquals("etag") {
                fields.append((name, coding.variantEntityTag(of: value, level: level) ?? value))
            } else if name.caseInsensitiveEquals("vary") {
                fields.append((name, Self.addingAcceptEncoding(to: value)))
                hasVary = true
            } else if notModified || !(name.caseInsensitiveEquals("content-length") || name.caseInsensitiveEquals("accept-ranges")) {
                fields.append((name, value))
            }
        }
        if !notModified {
            fields.append(("Content-Encoding", coding.token))
            if let length { fields.append(("Content-Length", String(length))) }
        }
        if !hasVary { fields.append(("Vary", "Accept-Encoding")) }
        message.fields = fields
    }

    /// `Vary: Accept-Encoding` added, or merged into a Vary the answer has; prepared fields
    /// stay when it is there already (the hot static path).
    private static func addVary(to message: inout ResponseMessage) {
        guard let index = message.fields.firstIndex(where: { $0.0.caseInsensitiveEquals("vary") }) else {
            message.fields.append(("Vary", "Accept-Encoding"))
            return
        }
        let value = message.fields[index].1
        let merged = Self.addingAcceptEncoding(to: value)
        guard merged != value else { return }
        message.fields[index].1 = merged
    }

    private static func variesOnEncoding(_ fields: [(String, String)]) -> Bool {
        for (name, value) in fields where name.utf8.count == 4 && name.caseInsensitiveEquals("vary") {
            if value.caseInsensitiveEquals("accept-encoding") || Self.addingAcceptEncoding(to: value) == value { return true }
        }
        return false
    }

    private static func addingAcceptEncoding(to vary: String) -> String {
        if vary.caseInsensitiveEquals("accept-encoding") { return vary }
        if vary.listContains("accept-encoding") || vary.listContains("*") { return vary }
        return vary.isEmpty ? "Accept-Encoding" : vary + ", Accept-Encoding"
    }
}
