internal import Yams

/// One entry of a host's `paths:` mapping: a path prefix and what serves it.
///
/// ```yaml
/// paths:
///   /docs:                          # starts with '/'; matches /docs and /docs/..., not /docsx
///     static: ../sites/docs         # exactly one of static, redirect, app
///     # redirect: { to: "https://example.test/new", status: 308, keep_path: true }
///     # app: notes
///     headers: { Cache-Tag: docs }  # extra response headers; override the host's by name
///     errors: { 404: ../sites/docs/404.html }   # merged over the host's error pages
///     listing: true                 # static options, see StaticConfig
/// ```
/// A trailing slash is dropped (`/docs/` is `/docs`): prefixes match whole segments anyway.
public struct PathRouteConfig: Sendable, Equatable {
    /// Starts with "/"; no trailing slash except "/" itself, which matches every path.
    public var prefix: String
    public var handler: HandlerConfig
    /// The host's headers first, then the path's; a path header replaces a host header of the
    /// same name (compared case-insensitively).
    public var headers: [HeaderField]
    /// Status (400...599) -> absolute file path; the path's entries win over the host's.
    public var errorPages: [Int: String]
    public var location: SourceLocation

    public init(prefix: String, handler: HandlerConfig, headers: [HeaderField] = [],
                errorPages: [Int: String] = [:], location: SourceLocation) {
        self.prefix = prefix
        self.handler = handler
        self.headers = headers
        self.errorPages = errorPages
        self.location = location
    }
}

/// A response header added by the config, with its name as written.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public enum HandlerConfig: Sendable, Equatable {
    case staticFiles(StaticConfig)
    case redirect(RedirectConfig)
    case app(AppRouteConfig)
}

/// What a host hands down to each of its paths.
struct HostDefaults {
    var headers: [HeaderField] = []
    var errorPages: [Int: String] = [:]
    var staticOptions = StaticOptions()
}

extension ConfigReader {
    static let handlerKeys = ["static", "redirect", "app"]
    static let routeKeys = handlerKeys + ["headers", "errors"] + staticOptionKeys

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

extension Character {
    /// `tchar` of RFC 9110, section 5.6.2: what header names and media types are made of.
    var isHTTPTokenCharacter: Bool {
        isASCII && (isLetter || isNumber || "!#$%&'*+-.^_`|~".contains(self))
    }
}
