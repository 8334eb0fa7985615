/// How one static site behaves. Plain values: the server builds it from the virtual-host file.
public struct StaticSiteOptions: Sendable {
    /// Absolute path of the directory served as `/`.
    public var root: String
    /// File names tried, in order, for a request that names a directory with a trailing `/`.
    /// Plain names only (no `/`).
    public var index: [String] = ["index.html"]
    /// Generate an HTML listing for a directory that has no index file.
    public var listing = false
    /// Serve names starting with `"."`. `.well-known` (RFC 8615) is always served: ACME
    /// challenges and security.txt live there.
    public var dotfiles = false
    /// Follow symlinks whose target is outside `root`. Off, a symlink (or `..` inside one) that
    /// leaves the root is treated as missing, whatever the kernel's view of the path.
    public var symlinksOutsideRoot = false
    /// Serve `file.br`, `file.zst` or `file.gz` next to `file` to clients that accept it.
    public var precompressed = true
    /// `Cache-Control` value for 200, 206 and 304 responses from files.
    public var cacheControl: String?
    /// Extension (lowercase, no dot) → media type; overrides ``MIMETypes/standard``.
    public var mimeTypes: [String: String] = [:]

    public init(root: String) {
        self.root = root
    }
}

/// Why a ``StaticSite`` could not be created; each message names the path it is about.
public enum StaticSiteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The root could not be opened as a directory (errno attached).
    case rootUnavailable(path: String, errno: Int32)
    /// The root is not an absolute path.
    case rootNotAbsolute(path: String)
    /// An index entry is empty, `.`/`..`, or contains `/` or a NUL byte.
    case invalidIndexName(String)

    public var description: String {
        switch self {
        case .rootUnavailable(let path, let code):
            return "static root \(path) cannot be opened as a directory (errno \(code)): create it or fix the path"
        case .rootNotAbsolute(let path):
            return "static root \(path) is not an absolute path"
        case .invalidIndexName(let name):
            return "index name \"\(name)\" must be a plain file name (no \"/\", not \".\" or \"..\")"
        }
    }
}
