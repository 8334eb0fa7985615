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
public struct StaticConfig: Sendable, Equatable, Codable {
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
