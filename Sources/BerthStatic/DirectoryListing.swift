#if canImport(Glibc)
import Glibc
#endif

/// The HTML page shown for a directory that has no index file when listing is enabled.
public enum DirectoryListing {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var isDirectory: Bool
        public var size: Int64
        /// Seconds since 1970.
        public var modified: Int

        public init(name: String, isDirectory: Bool, size: Int64, modified: Int) {
            self.name = name
            self.isDirectory = isDirectory
            self.size = size
            self.modified = modified
        }
    }

    /// An HTML5 page for `path` (the decoded request path, ending in "/"). Directories come
    /// first, each group sorted by name; names are HTML-escaped and percent-encoded in links.
    public static func html(path: String, entries: [Entry]) -> String {
        let sorted = entries.sorted {
            $0.isDirectory != $1.isDirectory ? $0.isDirectory : Array($0.name.utf8).lexicographicallyPrecedes($1.name.utf8)
        }
        let title = "Index of " + HTMLEscaping.escape(path)
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}\
            th,td{padding:.2em 2em .2em 0;text-align:left}td.size{text-align:right}</style>
            </head>
            <body>
            <h1>\(title)</h1>
            <table>
            <thead><tr><th>Name</th><th>Last modified</th><th>Size</th></tr></thead>
            <tbody>

            """
        if path != "/" {
            page += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n"
        }
        for entry in sorted {
            let suffix = entry.isDirectory ? "/" : ""
            let href = PercentEncoding.encodeSegment(entry.name) + suffix
            let size = entry.isDirectory ? "-" : String(entry.size)
            page += "<tr><td><a href=\"\(href)\">\(HTMLEscaping.escape(entry.name))\(suffix)</a></td>"
            page += "<td>\(timestamp(entry.modified))</td><td class=\"size\">\(size)</td></tr>\n"
        }
        page += "</tbody>\n</table>\n</body>\n</html>\n"
        return page
    }

    /// `2024-05-01 13:45` in UTC.
    static func timestamp(_ seconds: Int) -> String {
        // Reuse the IMF-fixdate computation: "Wed, 01 May 2024 13:45:07 GMT".
        let fields = HTTPDate.format(seconds).split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let month = (months.firstIndex(of: String(fields[2])) ?? 0) + 1
        return "\(fields[3])-\(month < 10 ? "0" : "")\(month)-\(fields[1]) \(fields[4].prefix(5))"
    }

    /// Entries of the directory `relative` that a request could reach: regular files and
    /// directories whose names are valid UTF-8 without control characters or backslashes
    /// (``RequestTarget`` refuses anything else), dotfiles only when allowed. Symlinks are
    /// shown only when their target may be served. Nil if the directory cannot be opened
    /// without leaving the root.
    static func read(_ relative: String, in root: RootDirectory, dotfiles: Bool) -> [Entry]? {
        guard let fd = root.openDirectory(relative) else { return nil }
        guard let directory = fdopendir(fd) else {
            close(fd)
            return nil
        }
        defer { closedir(directory) }
        let directoryFD = dirfd(directory)
        var entries: [Entry] = []
        while let record = readdir(directory) {
            let nameBytes = withUnsafeBytes(of: record.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            guard let name = String(validating: nameBytes, as: UTF8.self), name != ".", name != "..",
                !nameBytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }),
                dotfiles || !SitePath.isHidden(Substring(name))
            else { continue }
            var st = stat()
            guard fstatat(directoryFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            var status = FileStatus(st)
            if status.isSymlink {
                let path = relative == "." ? name : relative + "/" + name
                let target = root.symlinksOutsideRoot ? root.status(path) : root.confinedStatus(path)
                guard let target else { continue }
                status = target
            }
            guard status.isRegular || status.isDirectory else { continue }
            entries.append(
                Entry(
                    name: name,
                    isDirectory: status.isDirectory,
                    size: status.identity.size,
                    modified: status.identity.modifiedSeconds
                )
            )
        }
        return entries
    }
}
