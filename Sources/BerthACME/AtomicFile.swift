#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a file so that a reader, or a restart after a crash or power loss, sees either the
/// old content or the new, never a part: a temporary file in the same folder, written and
/// fsynced, renamed over the target (rename(2) is atomic within a file system), then the
/// folder fsynced so the rename itself is durable.
public enum AtomicFile {
    /// Writes `bytes` to `path` with `mode` (not subject to the umask), owned by `owner` when
    /// given (a key the workers' account must read).
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t,
                             owner: (uid: uid_t, gid: gid_t)? = nil) throws {
        let folder = parentFolder(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let temporary = "\(folder)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // O_EXCL: never follow or reuse something already there under the temporary name.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create", temporary) }
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            // The mode given to open(2) is masked by the umask; a key must end up exactly 0600.
            guard fchmod(fd, mode) == 0 else { throw failure("cannot set the mode of", temporary) }
            if let owner, fchown(fd, owner.uid, owner.gid) != 0 {
                throw failure("cannot hand to uid \(owner.uid) gid \(owner.gid)", temporary)
            }
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeBytes { buffer in
                    Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                }
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { throw failure("cannot write", temporary) }
                written += result
            }
            guard fsync(fd) == 0 else { throw failure("cannot fsync", temporary) }
        }
        guard rename(temporary, path) == 0 else { throw failure("cannot rename into place", path) }
        renamed = true
        try syncFolder(folder)
    }

    /// Creates `path` and missing parents with `mode`; an existing folder keeps its mode.
    public static func makeFolder(_ path: String, mode: mode_t, owner: (uid: uid_t, gid: gid_t)? = nil) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & mode_t(S_IFMT) == mode_t(S_IFDIR) else {
                throw ACMEError.storage(path: path, reason: "exists and is not a folder")
            }
            return
        }
        let parent = parentFolder(of: path)
        if parent != path { try makeFolder(parent, mode: mode, owner: owner) }
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw failure("cannot create folder", path) }
        chmod(path, mode)
        if let owner { chown(path, owner.uid, owner.gid) }
        try syncFolder(parent)
    }

    static func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open folder", folder) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot fsync folder", folder) }
    }

    /// The whole file, or nil when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw failure("cannot open", path)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read", path) }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func failure(_ what: String, _ path: String) -> ACMEError {
        ACMEError.storage(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
