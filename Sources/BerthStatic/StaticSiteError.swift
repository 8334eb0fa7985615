import BerthConfig

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
