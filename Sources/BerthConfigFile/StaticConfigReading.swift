internal import Yams
import BerthConfig

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
