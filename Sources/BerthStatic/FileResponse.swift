import NIOCore
import Synchronization

/// One representation of a file: the file itself, or a precompressed sidecar of it.
struct Representation {
    let file: CachedFile
    let coding: ContentCoding?
    /// Media type of the original file (a sidecar's own name would say "gzip").
    let contentType: String

    /// The file's own entity-tag, plus the coding for sidecars.
    var entityTag: EntityTag {
        guard let coding else { return EntityTag(opaque: Substring(file.entityTagOpaque), isWeak: false) }
        return EntityTag(opaque: Substring(file.entityTagOpaque + "-" + coding.entityTagSuffix), isWeak: false)
    }

    var lastModified: Int { file.identity.modifiedSeconds }

    /// The fields prepared when the file was opened, when they describe this representation
    /// (the file itself, with the media type they were prepared with).
    var prepared: PreparedFields? {
        guard coding == nil, let full = file.fullResponse, full.contentType == contentType else { return nil }
        return full
    }

    /// The fields of a 304 prepared when the file was opened, under the same condition.
    var preparedNotModified: PreparedFields? {
        guard coding == nil, let notModified = file.notModifiedResponse, notModified.contentType == contentType else { return nil }
        return notModified
    }

    /// What variants of this representation are made from: the file itself, not a sidecar.
    var variantSource: FileVariantSource? {
        coding == nil ? FileVariantSource(file: file, contentType: contentType) : nil
    }
}

/// A field list in the form another protocol sends it, made by the server (HTTP/2's HPACK
/// block): a site asks for it once per open file, knowing nothing of the format.
public typealias FieldBlockEncoder = @Sendable ([(String, String)]) -> ByteBuffer

/// The fields of a full (200) response of one file in its own representation: what nearly
/// every request for a hot file gets, so they are built once per open file, not per response.
/// One shared object: a response carries it with a single reference, however often it is
/// handed on.
public final class PreparedFields: Sendable {
    /// How a site answers: the same for every file of it but the media type.
    struct Profile: Sendable {
        var contentType: String
        var cacheControl: String?
        var varyOnEncoding: Bool
        var fieldBlock: FieldBlockEncoder?

        /// The fields a 200 and its 304 share last: `Vary` and `Cache-Control`.
        func appendCaching(to fields: inout [(String, String)]) {
            if varyOnEncoding { fields.append(("Vary", "Accept-Encoding")) }
            if let cacheControl { fields.append(("Cache-Control", cacheControl)) }
        }
    }

    let contentType: String
    public let fields: [(String, String)]
    /// `fields` as HTTP/1.1 field lines.
    public let http1: ByteBuffer
    /// `fields` as the server's `FieldBlockEncoder` made them.
    public let fieldBlock: ByteBuffer?
    /// `fields` say `Vary: Accept-Encoding`.
    public let variesOnEncoding: Bool
    /// What made `fieldBlock`, for the fields of a variant (`deriving`).
    private let fieldBlockEncoder: FieldBlockEncoder?

    convenience init(_ profile: Profile, contentLength: String, entityTag: String, lastModified: String) {
        var fields = [
            ("Content-Type", profile.contentType), ("Content-Length", contentLength), ("ETag", entityTag),
            ("Last-Modified", lastModified), ("Accept-Ranges", "bytes"),
        ]
        profile.appendCaching(to: &fields)
        self.init(fields, contentType: profile.contentType, variesOnEncoding: profile.varyOnEncoding, fieldBlock: profile.fieldBlock)
    }

    /// The fields of a 304 of the same file: those a 200 would have had for caching, and no
    /// content (RFC 9110 §15.4.5). Every revalidation a browser makes gets them.
    convenience init(notModified profile: Profile, entityTag: String, lastModified: String) {
        var fields = [("ETag", entityTag), ("Last-Modified", lastModified)]
        profile.appendCaching(to: &fields)
        self.init(fields, contentType: profile.contentType, variesOnEncoding: profile.varyOnEncoding, fieldBlock: profile.fieldBlock)
    }

    private init(_ fields: [(String, String)], contentType: String, variesOnEncoding: Bool, fieldBlock: FieldBlockEncoder?) {
        var serialized = ByteBuffer()
        for (name, value) in fields {
            serialized.writeString(name)
            serialized.writeStaticString(": ")
            serialized.writeString(value)
            serialized.writeStaticString("\r\n")
        }
        self.contentType = contentType
        self.fields = fields
        self.http1 = serialized
        self.fieldBlock = fieldBlock?(fields)
        self.variesOnEncoding = variesOnEncoding
        self.fieldBlockEncoder = fieldBlock
    }

    /// The fields of a variant of this answer (a compressed one), prepared in the same forms:
    /// made once per variant and kept with it, not per response.
    public func deriving(_ fields: [(String, String)], variesOnEncoding: Bool) -> PreparedFields {
        PreparedFields(fields, contentType: self.contentType, variesOnEncoding: variesOnEncoding, fieldBlock: self.fieldBlockEncoder)
    }

    /// Variants of these fields for a coding made on the fly, by coding and level: made by
    /// `make` the first time and kept with these for as long as they live. For a hot file's
    /// 304, which a revalidating browser asks for far more often than the file changes.
    private let variants = Mutex<[(coding: ContentCoding, level: Int, fields: PreparedFields)]>([])
    /// Codings and levels a route can name are few; beyond this many, variants are made anew.
    private static let variantSlots = 8

    public func variant(for coding: ContentCoding, level: Int, make: () -> PreparedFields) -> PreparedFields {
        if let kept = self.variants.withLock({ $0.first { $0.coding == coding && $0.level == level }?.fields }) { return kept }
        let made = make()
        self.variants.withLock { variants in
            guard variants.count < Self.variantSlots, !variants.contains(where: { $0.coding == coding && $0.level == level }) else { return }
            variants.append((coding, level, made))
        }
        return made
    }
}

/// Turns a representation plus the request's conditional and range fields into the complete
/// response: RFC 9110 §13 (preconditions) and §14 (ranges).
struct FileResponder: Sendable {
    let cacheControl: String?
    /// Whether responses vary on Accept-Encoding (precompressed sidecars are enabled).
    let varyOnEncoding: Bool
    let fieldBlock: FieldBlockEncoder?

    func profile(contentType: String) -> PreparedFields.Profile {
        PreparedFields.Profile(contentType: contentType, cacheControl: cacheControl, varyOnEncoding: varyOnEncoding, fieldBlock: fieldBlock)
    }

    /// - `thread`: the event-loop thread that sends the response (its memo's number), whose own
    ///   descriptor of the file a body from the file uses; nil gives the body a descriptor of its own.
    func respond(_ representation: Representation, to request: StaticRequest, now: Int, thread: Int?) -> StaticResponse {
        let file = representation.file
        // Nearly every request asks for the whole file with no conditions: its prepared answer,
        // without building the entity-tag or evaluating preconditions that are absent.
        if request.headers.asksUnconditionally, let full = representation.prepared {
            return self.fullResponse(full, of: representation, isHead: request.method == "HEAD", thread: thread)
        }
        let size = file.size
        let entityTag = representation.entityTag
        let lastModified = representation.lastModified
        let isHead = request.method == "HEAD"

        let etagText = representation.coding == nil ? file.quotedEntityTag : "\"" + entityTag.opaque + "\""
        var validators: [(String, String)] { [("ETag", etagText), ("Last-Modified", file.lastModified)] }
        var vary: [(String, String)] {
            // Any response to this URL depends on Accept-Encoding once sidecars may be chosen, so
            // caches must key on it (RFC 9110 §12.5.5), identity responses included.
            varyOnEncoding ? [("Vary", "Accept-Encoding")] : []
        }
        var caching: [(String, String)] { cacheControl.map { [("Cache-Control", $0)] } ?? [] }

        switch Preconditions.evaluate(request.headers, entityTag: entityTag, lastModified: lastModified) {
        case .preconditionFailed:
            return StaticResponse(status: 412, headers: [("Content-Length", "0")] + vary, body: .empty)
        case .notModified:
            // §15.4.5: a 304 carries the fields a 200 would have had for caching, and no
            // content (so no Content-Length that would describe one).
            if let notModified = representation.preparedNotModified {
                var response = StaticResponse(status: 304, headers: notModified.fields, body: .empty)
                response.prepared = notModified
                response.variantSource = representation.variantSource
                return response
            }
            var headers: [(String, String)] = []
            headers.reserveCapacity(4)
            headers.append(("ETag", etagText))
            headers.append(("Last-Modified", file.lastModified))
            if varyOnEncoding { headers.append(("Vary", "Accept-Encoding")) }
            if let cacheControl { headers.append(("Cache-Control", cacheControl)) }
            var response = StaticResponse(status: 304, headers: headers, body: .empty)
            response.variantSource = representation.variantSource
            return response
        case .proceed:
            break
        }

        var decision = RangeDecision.ignore
        // §14.2: Range is defined for GET only; HEAD and others ignore it.
        if request.method == "GET", let range = request.headers.range {
            let rangeAllowed = request.headers.ifRange.map {
                Preconditions.ifRangeAllowsRange($0, entityTag: entityTag, lastModified: lastModified, now: now)
            } ?? true
            if rangeAllowed { decision = ByteRanges.evaluate(range, size: size) }
        }

        let encoding = representation.coding.map { [("Content-Encoding", $0.token)] } ?? []
        let contentType = ("Content-Type", representation.contentType)
        switch decision {
        case .ignore:
            if let full = representation.prepared {
                return self.fullResponse(full, of: representation, isHead: isHead, thread: thread)
            }
            var headers: [(String, String)] = []
            headers.reserveCapacity(8)
            headers.append(contentType)
            headers.append(("Content-Length", file.sizeText))
            if let coding = representation.coding { headers.append(("Content-Encoding", coding.token)) }
            headers.append(("ETag", etagText))
            headers.append(("Last-Modified", file.lastModified))
            headers.append(("Accept-Ranges", "bytes"))
            if varyOnEncoding { headers.append(("Vary", "Accept-Encoding")) }
            if let cacheControl { headers.append(("Cache-Control", cacheControl)) }
            var response = StaticResponse(status: 200, headers: headers, body: .empty)
            response.variantSource = representation.variantSource
            guard !isHead else { return response }
            guard let body = body(of: file, offset: 0, count: size, thread: thread) else { return Self.outOfDescriptors }
            response.body = body
            return response

        case .unsatisfiable:
            // §15.5.17: 416 says how long the representation is.
            return StaticResponse(
                status: 416,
                headers: [("Content-Range", "bytes */\(size)"), ("Content-Length", "0")] + validators + vary,
                body: .empty
            )

        case .ranges(let ranges) where ranges.count == 1:
            let range = ranges[0]
            guard let body = body(of: file, offset: range.first, count: range.count, thread: thread) else {
                return Self.outOfDescriptors
            }
            let headers = [contentType, ("Content-Length", String(range.count))]
                + [("Content-Range", range.contentRange(size: size))] + encoding + validators
                + [("Accept-Ranges", "bytes")] + vary + caching
            return StaticResponse(status: 206, headers: headers, body: body)

        case .ranges(let ranges):
            // §14.6: several ranges go in one multipart/byteranges body, each part with its own
            // Content-Type and Content-Range.
            let multipart = MultipartByteranges(
                boundary: MultipartByteranges.randomBoundary(),
                contentType: representation.contentType,
                size: size
            )
            var openFile: OpenFile?
            if file.contents == nil {
                guard let opened = file.openFile(forThread: thread) else { return Self.outOfDescriptors }
                openFile = opened
            }
            let headers = [("Content-Type", multipart.mediaType), ("Content-Length", String(multipart.length(of: ranges)))]
                + encoding + validators + [("Accept-Ranges", "bytes")] + vary + caching
            return StaticResponse(
                status: 206,
                headers: headers,
                body: multipart.body(ranges, contents: file.contents, file: openFile)
            )
        }
    }

    /// The 200 of a file in its own representation, with the fields prepared when it was opened.
    private func fullResponse(_ full: PreparedFields, of representation: Representation, isHead: Bool, thread: Int?) -> StaticResponse {
        let file = representation.file
        var body = StaticBody.empty
        if !isHead {
            guard let whole = self.body(of: file, offset: 0, count: file.size, thread: thread) else { return Self.outOfDescriptors }
            body = whole
        }
        // Built once, in place: setting the body on a finished response copied it.
        var response = StaticResponse(status: 200, headers: full.fields, body: body)
        response.prepared = full
        response.variantSource = representation.variantSource
        return response
    }

    /// Small files are sent from memory (a slice, no copy); larger ones as a file segment for
    /// sendfile, which carries the file's bytes too when it is held in memory (see
    /// `CachedFile.sendfileAbove`). Nil only when no descriptor could be had.
    private func body(of file: CachedFile, offset: Int64, count: Int64, thread: Int?) -> StaticBody? {
        if count == 0 { return .empty }
        if let contents = file.contents {
            // A file above `CachedFile.sendfileAbove` has a descriptor; without one to spare,
            // the bytes in memory serve as well.
            if let openFile = file.openFile(forThread: thread) {
                return .file(openFile, offset: offset, count: count)
            }
            if offset == 0 && Int(count) == contents.readableBytes { return .bytes(contents) }
            return .bytes(contents.getSlice(at: contents.readerIndex + Int(offset), length: Int(count))!)
        }
        guard let openFile = file.openFile(forThread: thread) else { return nil }
        return .file(openFile, offset: offset, count: count)
    }

    /// The process ran out of descriptors (EMFILE/ENFILE): a transient overload, not a
    /// missing file (RFC 9110 §15.6.4).
    static let outOfDescriptors = StaticResponse(
        status: 503,
        headers: [("Content-Length", "0"), ("Retry-After", "1")],
        body: .empty
    )
}
