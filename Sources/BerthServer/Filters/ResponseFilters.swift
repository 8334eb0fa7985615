import BerthStatic
import NIOCore
import NIOHTTP1

/// The filters every answer passes through, whichever handler (or refusal) produced it, in
/// order: conditional requests and ranges, then error pages, then compression (so pages and
/// listings are compressed too). Configured headers and HSTS are
/// the head builder's; the access log and metrics are written when the exchange ends.
enum ResponseFilters {
    static func apply(to message: inout ResponseMessage, exchange: Exchange) {
        // Without compression on the route there is nothing to look up for it.
        let compression = CompressionFilter.settings(host: exchange.host, route: exchange.route)
        // What the conditional filter was given, for the compression filter's 304 case; kept
        // only when both filters run (a static answer was evaluated by its site already).
        var answered: ResponseMessage?
        // Only a 200 can become a 304, 412 or 206, and only for a request that has conditions
        // or a range: the request's fields are looked at only then.
        if !message.conditionsEvaluated, message.status == 200, exchange.head != nil {
            let request = exchange.requestFields
            if !request.asksUnconditionally {
                if compression != nil { answered = message }
                ConditionalFilter.apply(to: &message, request: request, isHead: exchange.state.isHead)
            }
        }
        if message.status >= 300 {
            ErrorPageFilter.apply(to: &message, pages: ErrorPageFilter.pages(host: exchange.host, route: exchange.route),
                                  allocator: exchange.allocator)
        }
        guard let settings = compression else { return }
        CompressionFilter.apply(
            to: &message, answered: answered, settings: settings, acceptEncoding: exchange.requestFields.acceptEncoding,
            variants: exchange.generation.variants, allocator: exchange.allocator, loop: exchange.eventLoop)
    }
}

/// Conditional requests (RFC 9110 §13) and ranges (§14) for answers that carry validators and
/// were not evaluated by their handler: an app's 200 with an `ETag` or `Last-Modified`.
/// Static files (an app's `.file` answers included) are evaluated by their site, with the same
/// rules from BerthStatic.
enum ConditionalFilter {
    static func apply(to message: inout ResponseMessage, request: StaticRequestHeaders, isHead: Bool) {
        // Cheapest first: most answers are not 200s to a conditional or range request (the
        // caller asks the same first, to skip the copy it keeps for compression).
        guard message.status == 200, !request.asksUnconditionally, case .bytes(let body) = message.body,
            message.fields.contains(where: { $0.0.caseInsensitiveEquals("etag") || $0.0.caseInsensitiveEquals("last-modified") })
        else { return }
        if let response = BufferedRepresentation.respond(fields: message.fields, body: body, request: request, isHead: isHead) {
            message = ResponseMessage(response)
        }
    }
}

/// The host's page for an error status, in place of whatever body the answer had; the
/// built-in page for answers whose body is Berth's to write.
enum ErrorPageFilter {
    /// The route's pages (the host's merged with the path's), or, before a route was found,
    /// those of the host's "/" route.
    static func pages(host: VirtualHost?, route: PathRoute?) -> [Int: ErrorPage] {
        if let route { return route.errorPages }
        return host?.route(for: "/")?.errorPages ?? [:]
    }

    static func apply(to message: inout ResponseMessage, pages: [Int: ErrorPage], allocator: ByteBufferAllocator) {
        let status = message.status
        if status >= 400, let page = pages[status] {
            message.removeFields { Self.describesRepresentation($0) }
            message.fields.append(("Content-Type", page.contentType))
            message.fields.append(("Content-Length", String(page.body.readableBytes)))
            message.body = .bytes(page.body)
            return
        }
        guard message.usesServerPage, status != 304 else { return }
        let body = BuiltInErrorPage.body(for: HTTPResponseStatus(statusCode: status), allocator: allocator)
        message.removeFields { Self.describesRepresentation($0) }
        message.fields.append(("Content-Type", "text/html; charset=utf-8"))
        message.fields.append(("Content-Length", String(body.readableBytes)))
        message.body = .bytes(body)
    }

    /// Fields that describe the body being replaced.
    private static func describesRepresentation(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "content-type" || lower == "content-length" || lower == "content-encoding" || lower == "etag"
            || lower == "last-modified" || lower == "content-range" || lower == "accept-ranges"
    }
}
