#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths in the virtual-host file are relative to the file's own folder, so a config and the
/// sites it names can move together. They are normalized lexically (no symlinks resolved):
/// confining requests to a root is the static module's job, and it needs the path as written.
package enum ConfigPath {
    /// `path` made absolute against `base`, with `.`, `..`, repeated and trailing slashes gone.
    package static func resolve(_ path: String, against base: String) -> String {
        normalize(path.hasPrefix("/") ? path : base + "/" + path)
    }

    package static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The absolute form of the config file's own path, against the working directory.
    package static func absolute(_ file: String) -> String {
        resolve(file, against: currentDirectory())
    }

    /// The folder relative paths in `file` are resolved against.
    package static func folder(of absoluteFile: String) -> String {
        guard let slash = absoluteFile.lastIndex(of: "/"), slash != absoluteFile.startIndex
        else { return "/" }
        return String(absoluteFile[..<slash])
    }

    private static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(cString: buffer)
    }

    package enum Kind { case missing, directory, file, other }

    /// What is at `path`, following symlinks, since that is how the server will open it.
    package static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & mode_t(S_IFMT) {
        case mode_t(S_IFDIR): return .directory
        case mode_t(S_IFREG): return .file
        default: return .other
        }
    }
}
