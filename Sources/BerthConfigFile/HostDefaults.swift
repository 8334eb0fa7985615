import BerthConfig

/// What a host hands down to each of its paths.
struct HostDefaults {
    var headers: [HeaderField] = []
    var errorPages: [Int: String] = [:]
    var staticOptions = StaticOptions()
    var compression = CompressionOptions()
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

extension Character {
    /// `tchar` of RFC 9110, section 5.6.2: what header names and media types are made of.
    var isHTTPTokenCharacter: Bool {
        isASCII && (isLetter || isNumber || "!#$%&'*+-.^_`|~".contains(self))
    }
}
