import BerthConfig
import BerthStatic

/// Whether an answer is compressed, and how: the rules alone, without bodies or I/O.
enum CompressionPolicy {
    enum Decision: Equatable {
        /// Not a candidate: the answer goes as it is, and its encoding never varies.
        case leave
        /// A candidate the client gets uncompressed: it still says `Vary: Accept-Encoding`
        /// (RFC 9110 §12.5.5), since another client gets another encoding.
        case identity
        case compress(ContentCoding)
    }

    /// - `status` and `fields`: the answer's (a 304 is decided as the 200 it stands for).
    /// - `contentType`: the media type when `fields` name none (a 304 leaves out its 200's).
    /// - `length`: the body's length, nil for a stream; `streamed`: compressed chunk by chunk.
    /// - `acceptEncoding`: the request's field (RFC 9110 §12.5.3), nil when absent.
    static func decide(
        status: Int, fields: [(String, String)], contentType: String? = nil, length: Int64?, streamed: Bool,
        acceptEncoding: String?, settings: CompressionSettings
    ) -> Decision {
        // 206: ranges are of the identity body. 204 and 1xx have no content.
        guard status >= 200, status != 204, status != 206, status != 304 else { return .leave }
        // Sizes first: they are known without looking at a field, and most small answers
        // stop here.
        if let length {
            if length < settings.minLength { return .leave }
            if !streamed && length > CompressionSettings.maxWholeBodyBytes { return .leave }
        }
        var contentType = contentType
        for (name, value) in fields {
            if name.caseInsensitiveEquals("content-type") {
                contentType = value
            } else if name.caseInsensitiveEquals("content-encoding") {
                // Encoded already (a sidecar, or an app's own), not to be encoded twice.
                if !String(value.trimmingSpaces()).caseInsensitiveEquals("identity") { return .leave }
            } else if name.caseInsensitiveEquals("cache-control") {
                if Self.forbidsTransform(value) { return .leave }
            }
        }
        guard let contentType, settings.types.contains(contentType) else { return .leave }
        guard let acceptEncoding, let coding = AcceptEncoding(acceptEncoding).best(among: settings.codings) else {
            return .identity
        }
        return .compress(coding)
    }

    /// RFC 9111 §5.2.2.6: with `no-transform` in Cache-Control, no intermediary or filter may
    /// transform the content.
    static func forbidsTransform(_ cacheControl: String) -> Bool {
        cacheControl.listContains("no-transform")
    }
}
