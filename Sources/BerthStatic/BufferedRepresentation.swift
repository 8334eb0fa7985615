public import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Conditional requests and ranges for a representation held in memory whose validators are
/// fields of its own (an app's answer with `ETag` or `Last-Modified`): the rules files get,
/// from the same `Preconditions` and `ByteRanges`.
public enum BufferedRepresentation {
    /// The answer to give instead of the full 200, or nil when the full 200 stands.
    public static func respond(
        fields: [(String, String)], body: ByteBuffer, request: StaticRequestHeaders, isHead: Bool, now: Int = Int(time(nil))
    ) -> StaticResponse? {
        var entityTag: EntityTag?
        var lastModifiedText: String?
        var contentType = "application/octet-stream"
        for (name, value) in fields {
            switch name.lowercased() {
            case "etag": entityTag = EntityTag.parse(Substring(value))
            case "last-modified": lastModifiedText = value
            case "content-type": contentType = value
            default: continue
            }
        }
        let lastModified = lastModifiedText.flatMap(HTTPDate.parse)
        guard entityTag != nil || lastModified != nil else { return nil }
        // Without an entity-tag nothing matches one, and `*` still matches (a representation exists).
        let tag = entityTag ?? EntityTag(opaque: "", isWeak: true)
        let modified = lastModified ?? Int.max
        let validators = fields.filter { ["etag", "last-modified", "cache-control", "vary", "expires", "content-location"].contains($0.0.lowercased()) }

        switch Preconditions.evaluate(request, entityTag: tag, lastModified: modified) {
        case .preconditionFailed:
            return StaticResponse(status: 412, headers: [("Content-Length", "0")], body: .empty)
        case .notModified:
            // RFC 9110 §15.4.5: the fields a 200 would have had for caching, no content.
            return StaticResponse(status: 304, headers: validators, body: .empty)
        case .proceed:
            break
        }
        guard !isHead, let range = request.range else { return nil }
        let size = Int64(body.readableBytes)
        if let ifRange = request.ifRange,
            !Preconditions.ifRangeAllowsRange(ifRange, entityTag: tag, lastModified: modified, now: now)
        {
            return nil
        }
        let kept = fields.filter { $0.0.lowercased() != "content-length" && $0.0.lowercased() != "content-type" }
        switch ByteRanges.evaluate(range, size: size) {
        case .ignore:
            return nil
        case .unsatisfiable:
            return StaticResponse(status: 416, headers: [("Content-Range", "bytes */\(size)"), ("Content-Length", "0")] + validators, body: .empty)
        case .ranges(let ranges) where ranges.count == 1:
            let range = ranges[0]
            let slice = body.getSlice(at: body.readerIndex + Int(range.first), length: Int(range.count))!
            return StaticResponse(
                status: 206,
                headers: [("Content-Type", contentType), ("Content-Length", String(range.count)), ("Content-Range", range.contentRange(size: size))] + kept,
                body: .bytes(slice))
        case .ranges(let ranges):
            let multipart = MultipartByteranges(boundary: MultipartByteranges.randomBoundary(), contentType: contentType, size: size)
            return StaticResponse(
                status: 206,
                headers: [("Content-Type", multipart.mediaType), ("Content-Length", String(multipart.length(of: ranges)))] + kept,
                body: multipart.body(ranges, contents: body, file: nil))
        }
    }
}
