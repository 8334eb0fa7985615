internal import Yams
import BerthConfig

extension ConfigReader {
    static let handlerKeys = ["static", "redirect", "app"]
    static let routeKeys = handlerKeys + ["headers", "errors", "compress"] + staticOptionKeys

    /// The handler written in `fields`, which belong to a path, or to a host in shorthand form;
    /// `owner` names it in messages ("path '/docs'", "host 'shop.test'").
    func readHandler(_ fields: Fields, owner: String, options: StaticOptions,
                     alternatives: [String] = handlerKeys) -> HandlerConfig? {
        let present = fields.entries.filter { ConfigReader.handlerKeys.contains($0.key) }
        guard let chosen = present.first else {
            let names = alternatives.map { "'\($0)'" }
            let list = names.dropLast().joined(separator: ", ") + " or " + names.last!
            error("\(owner) needs one of \(list)", at: fields.node)
            return nil
        }
        for extra in present.dropFirst() {
            error("\(owner) has both '\(chosen.key)' and '\(extra.key)'; keep one", at: extra.keyNode)
        }
        if chosen.key != "static" {
            for entry in fields.entries where ConfigReader.staticOptionKeys.contains(entry.key) {
                error("'\(entry.key)' applies only to static paths, and \(owner) is served by "
                      + "'\(chosen.key)'", at: entry.keyNode)
            }
        }
        switch chosen.key {
        case "static":
            return directory(chosen.value, what: "static directory")
                .map { .staticFiles(options.config(root: $0)) }
        case "redirect":
            return readRedirect(chosen.value, owner: owner).map { .redirect($0) }
        default:
            return appReference(chosen.value).map { .app(AppRouteConfig(app: $0)) }
        }
    }

    /// A path prefix as written, checked and without its trailing slash.
    func routePrefix(_ entry: Entry) -> String? {
        let text = entry.key
        guard text.hasPrefix("/") else {
            error("expected a path prefix starting with '/', found '\(text)'", at: entry.keyNode)
            return nil
        }
        let segments = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        let trimmed = segments.last == "" ? segments.dropLast() : segments[...]
        let plain = trimmed.allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && !segment.unicodeScalars.contains(where: { "?#%*".unicodeScalars.contains($0)
                    || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        }
        guard plain else {
            error("expected a plain path prefix like /docs (no '.', '..', '//', spaces, '?', '#', "
                  + "'%' or '*'), found '\(text)'", at: entry.keyNode)
            return nil
        }
        return "/" + trimmed.joined(separator: "/")
    }

    // MARK: Headers

    /// Set by the server from the message itself; configuring them would break HTTP framing.
    static let reservedHeaders: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
        "trailer", "proxy-connection",
    ]

    func readHeaders(_ node: Node) -> [HeaderField] {
        var headers: [HeaderField] = []
        var seen: Set<String> = []
        for entry in entries(of: node, expected: "a mapping of header names to values") ?? [] {
            let name = entry.key
            guard !name.isEmpty, name.allSatisfy(\.isHTTPTokenCharacter) else {
                error("expected a header name like X-Frame-Options, found '\(name)'", at: entry.keyNode)
                continue
            }
            let lowered = name.lowercased()
            guard !ConfigReader.reservedHeaders.contains(lowered) else {
                error("header '\(name)' is set by the server and cannot be configured", at: entry.keyNode)
                continue
            }
            guard seen.insert(lowered).inserted else {
                error("header '\(name)' is given twice (header names ignore case)", at: entry.keyNode)
                continue
            }
            guard let value = headerValue(entry.value, expected: "a header value", allowEmpty: true)
            else { continue }
            headers.append(HeaderField(name: name, value: value))
        }
        return headers
    }

    /// A scalar usable in a header: CR, LF and other control characters would let a config
    /// value inject headers of its own (RFC 9110, section 5.5).
    func headerValue(_ node: Node, expected: String, allowEmpty: Bool = false) -> String? {
        guard let text = allowEmpty ? scalar(node, expected: expected) : string(node, expected: expected)
        else { return nil }
        guard !text.unicodeScalars.contains(where: { $0 != "\t" && ($0.value < 0x20 || $0.value == 0x7F) })
        else {
            error("expected \(expected) without control characters or line breaks", at: node)
            return nil
        }
        return text
    }

    static func mergeHeaders(_ inherited: [HeaderField], _ own: [HeaderField]) -> [HeaderField] {
        let overridden = Set(own.map { $0.name.lowercased() })
        return inherited.filter { !overridden.contains($0.name.lowercased()) } + own
    }

    // MARK: Error pages

    func readErrorPages(_ node: Node) -> [Int: String] {
        var pages: [Int: String] = [:]
        for entry in entries(of: node, expected: "a mapping of statuses to error page files") ?? [] {
            guard let status = Int(entry.key), (400...599).contains(status) else {
                error("expected an HTTP status from 400 to 599, found '\(entry.key)'", at: entry.keyNode)
                continue
            }
            if let path = file(entry.value, what: "error page") { pages[status] = path }
        }
        return pages
    }
}
