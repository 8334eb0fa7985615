internal import Yams

/// Serving files from a directory: a path's `static:` key (or a host's shorthand).
///
/// The options below may be written on a path, or on its host, where every static path of the
/// host inherits them (a path's own value wins; `mime` maps are merged):
///
/// ```yaml
/// static: ../sites/shop/public   # the root directory; must exist
/// index: [index.html]            # file names tried for a directory; a string or a list
/// listing: false                 # list directories that have no index file
/// dotfiles: false                # serve names starting with '.' (hidden otherwise)
/// symlinks: false                # follow symlinks that lead outside the root
/// precompressed: true            # serve style.css.gz / .br next to style.css when accepted
/// cache_control: "public, max-age=3600"   # the Cache-Control header of responses
/// expires: 1h                    # shorthand for cache_control: "max-age=3600"; not with it
/// mime: { md: text/markdown }    # extra or overriding extension -> media type
/// fallback: notes                # an app for requests that match no file
/// ```
public struct StaticConfig: Sendable, Equatable {
    /// Absolute and normalized: no trailing slash except for "/" itself.
    public var root: String
    public var index: [String]
    public var listing: Bool
    public var dotfiles: Bool
    /// The `symlinks` key.
    public var symlinksOutsideRoot: Bool
    public var precompressed: Bool
    public var cacheControl: String?
    /// Lowercased extension without the dot -> media type.
    public var mimeTypes: [String: String]
    /// The `fallback` key: the name of an app under `apps:`.
    public var fallbackApp: String?

    public init(root: String, index: [String] = ["index.html"], listing: Bool = false,
                dotfiles: Bool = false, symlinksOutsideRoot: Bool = false, precompressed: Bool = true,
                cacheControl: String? = nil, mimeTypes: [String: String] = [:],
                fallbackApp: String? = nil) {
        self.root = root
        self.index = index
        self.listing = listing
        self.dotfiles = dotfiles
        self.symlinksOutsideRoot = symlinksOutsideRoot
        self.precompressed = precompressed
        self.cacheControl = cacheControl
        self.mimeTypes = mimeTypes
        self.fallbackApp = fallbackApp
    }
}

/// The static options written at one level, host or path; nil means "not set here".
struct StaticOptions {
    var index: [String]?
    var listing: Bool?
    var dotfiles: Bool?
    var symlinks: Bool?
    var precompressed: Bool?
    var cacheControl: String?
    var mimeTypes: [String: String] = [:]
    var fallbackApp: String?

    /// These options, with anything not set here taken from `inherited`.
    func inheriting(_ inherited: StaticOptions) -> StaticOptions {
        StaticOptions(
            index: index ?? inherited.index,
            listing: listing ?? inherited.listing,
            dotfiles: dotfiles ?? inherited.dotfiles,
            symlinks: symlinks ?? inherited.symlinks,
            precompressed: precompressed ?? inherited.precompressed,
            cacheControl: cacheControl ?? inherited.cacheControl,
            mimeTypes: inherited.mimeTypes.merging(mimeTypes) { _, own in own },
            fallbackApp: fallbackApp ?? inherited.fallbackApp)
    }

    func config(root: String) -> StaticConfig {
        let defaults = StaticConfig(root: root)
        return StaticConfig(
            root: root,
            index: index ?? defaults.index,
            listing: listing ?? defaults.listing,
            dotfiles: dotfiles ?? defaults.dotfiles,
            symlinksOutsideRoot: symlinks ?? defaults.symlinksOutsideRoot,
            precompressed: precompressed ?? defaults.precompressed,
            cacheControl: cacheControl,
            mimeTypes: mimeTypes,
            fallbackApp: fallbackApp)
    }
}

extension ConfigReader {
    static let staticOptionKeys = [
        "index", "listing", "dotfiles", "symlinks", "precompressed", "cache_control", "expires",
        "mime", "fallback",
    ]

    func readStaticOptions(_ fields: Fields) -> StaticOptions {
        var options = StaticOptions()
        for entry in fields.entries {
            let value = entry.value
            switch entry.key {
            case "index": options.index = indexNames(value)
            case "listing": options.listing = bool(value)
            case "dotfiles": options.dotfiles = bool(value)
            case "symlinks": options.symlinks = bool(value)
            case "precompressed": options.precompressed = bool(value)
            case "cache_control":
                options.cacheControl = headerValue(value, expected: "a Cache-Control value")
            case "expires":
                if fields.contains("cache_control") {
                    error("use either 'cache_control' or 'expires', not both", at: entry.keyNode)
                } else if let duration = duration(value, allowZero: true) {
                    options.cacheControl = "max-age=\(duration.wholeSeconds)"
                }
            case "mime": options.mimeTypes = mimeTypes(value)
            case "fallback": options.fallbackApp = appReference(value)
            default: break
            }
        }
        return options
    }

    /// Index names are plain file names; a path here could point outside the site's root.
    private func indexNames(_ node: Node) -> [String]? {
        let items: [Node]
        if case .sequence(let list) = node { items = Array(list) } else { items = [node] }
        var names: [String] = []
        for item in items {
            guard let name = string(item, expected: "an index file name like index.html") else { continue }
            guard !name.contains("/"), name != ".", name != ".." else {
                error("expected an index file name like index.html, found '\(name)'", at: item)
                continue
            }
            names.append(name)
        }
        return names.count == items.count ? names : nil
    }

    private func mimeTypes(_ node: Node) -> [String: String] {
        var types: [String: String] = [:]
        for entry in entries(of: node, expected: "a mapping of extensions to media types") ?? [] {
            var ext = Substring(entry.key.lowercased())
            if ext.hasPrefix(".") { ext = ext.dropFirst() }
            guard !ext.isEmpty, !ext.contains("/"), !ext.contains(".") else {
                error("expected a file extension like md, found '\(entry.key)'", at: entry.keyNode)
                continue
            }
            let expected = "a media type like text/markdown"
            guard let type = headerValue(entry.value, expected: expected) else { continue }
            // Parameters (`; charset=utf-8`) are kept as written; the type itself must be tokens.
            let essence = type.prefix { $0 != ";" }.trimmingSpaces()
            let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
            let isToken = { (part: Substring) in !part.isEmpty && part.allSatisfy(\.isHTTPTokenCharacter) }
            guard parts.count == 2, parts.allSatisfy(isToken) else {
                error("expected \(expected), found '\(type)'", at: entry.value)
                continue
            }
            types[String(ext)] = type
        }
        return types
    }

    /// A name under `apps:`; unknown names get the closest declared name as a suggestion.
    func appReference(_ node: Node) -> String? {
        guard let name = string(node, expected: "an app name") else { return nil }
        guard declaredApps.contains(name) else {
            let hint = declaredApps.isEmpty
                ? "; no apps are declared under 'apps:'"
                : Suggestion.hint(for: name, in: declaredApps, listing: "declared apps")
            error("unknown app '\(name)'\(hint)", at: node)
            return nil
        }
        referencedApps.insert(name)
        return name
    }
}
