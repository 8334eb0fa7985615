import CBerthSystem

#if canImport(Glibc)
import Glibc
#endif

/// What `fstat` says about a file, reduced to what serving and cache validation need.
struct FileStatus: Sendable {
    var identity: FileIdentity
    var mode: UInt32

    var isRegular: Bool { mode & 0o170000 == 0o100000 }
    var isDirectory: Bool { mode & 0o170000 == 0o040000 }
    var isSymlink: Bool { mode & 0o170000 == 0o120000 }

    init(_ st: stat) {
        identity = FileIdentity(
            device: UInt64(st.st_dev),
            inode: UInt64(st.st_ino),
            size: Int64(st.st_size),
            modifiedNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
            changedNanoseconds: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        )
        mode = UInt32(st.st_mode)
    }
}

/// Everything that changes when a file's content can have changed: a rename puts a new inode
/// in place, an in-place write moves mtime, and ctime catches writers that reset mtime.
public struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedNanoseconds: Int64
    var changedNanoseconds: Int64

    var modifiedSeconds: Int {
        Int(modifiedNanoseconds >= 0 ? modifiedNanoseconds / 1_000_000_000 : (modifiedNanoseconds - 999_999_999) / 1_000_000_000)
    }
}

/// A site's root directory, held open for the site's lifetime so every lookup is relative to
/// the same directory even if the path is renamed, and confinement does not depend on string
/// checks (DESIGN.md: "normalize once, then confine").
final class RootDirectory: Sendable {
    let descriptor: CInt
    let path: String
    let symlinksOutsideRoot: Bool
    /// False only in tests, to exercise the fallback used on kernels without openat2.
    let usesOpenat2: Bool

    init(path: String, symlinksOutsideRoot: Bool, usesOpenat2: Bool = true) throws(StaticSiteError) {
        guard path.hasPrefix("/") else { throw .rootNotAbsolute(path: path) }
        let fd = open(path, cberth_o_path | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .rootUnavailable(path: path, errno: errno) }
        descriptor = fd
        self.path = path
        self.symlinksOutsideRoot = symlinksOutsideRoot
        self.usesOpenat2 = usesOpenat2
    }

    deinit {
        close(descriptor)
    }

    /// `fstatat` following symlinks, the same resolution `openFile` uses. It does not enforce
    /// confinement: callers only trust the answer when it matches something opened confined
    /// (the cache's identity check) or when it is about to be confirmed by a confined open.
    func status(_ relative: String) -> FileStatus? {
        var st = stat()
        guard fstatat(descriptor, relative, &st, 0) == 0 else { return nil }
        return FileStatus(st)
    }

    /// Opens a regular file for reading. `O_NONBLOCK` keeps a FIFO planted in the root from
    /// blocking the event loop; the caller still checks the type with `fstat`.
    func openFile(_ relative: String) -> CInt? {
        openConfined(relative, flags: O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    }

    /// Opens a directory for reading its entries.
    func openDirectory(_ relative: String) -> CInt? {
        openConfined(relative, flags: O_RDONLY | O_CLOEXEC | O_DIRECTORY)
    }

    /// Whether `relative` is a directory reachable without leaving the root.
    func isConfinedDirectory(_ relative: String) -> Bool {
        guard let fd = openConfined(relative, flags: cberth_o_path | O_CLOEXEC | O_DIRECTORY) else { return false }
        close(fd)
        return true
    }

    /// `fstat` of `relative` reached without leaving the root (for listing entries that are
    /// symlinks).
    func confinedStatus(_ relative: String) -> FileStatus? {
        guard let fd = openConfined(relative, flags: cberth_o_path | O_CLOEXEC) else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return FileStatus(st)
    }

    private func openConfined(_ relative: String, flags: CInt) -> CInt? {
        if symlinksOutsideRoot {
            let fd = openat(descriptor, relative, flags)
            return fd >= 0 ? fd : nil
        }
        guard usesOpenat2 else { return openByResolvedPath(relative, flags: flags) }
        let fd = cberth_open_beneath(descriptor, relative, flags, 0)
        if fd >= 0 { return fd }
        // openat2 needs Linux 5.6; some container seccomp profiles answer EPERM instead of
        // ENOSYS for syscalls they do not know. Either way, confine by resolved path instead.
        if errno == ENOSYS || errno == EPERM { return openByResolvedPath(relative, flags: flags) }
        return nil
    }

    /// Fallback confinement: resolve every symlink with `realpath` and require the result to be
    /// the root or below it. The final `O_NOFOLLOW` narrows the window in which a component
    /// could be swapped for a symlink between the check and the open.
    private func openByResolvedPath(_ relative: String, flags: CInt) -> CInt? {
        guard let rootReal = Self.realPath(path),
            let target = Self.realPath(relative == "." ? path : path + "/" + relative)
        else { return nil }
        // Bytes, as the file system compares names: String's `==` and `hasPrefix` take
        // canonically equivalent characters for equal, and a sibling directory "cafe\u{301}"
        // is not inside a root "caf\u{e9}".
        let below = rootReal == "/" ? "/" : rootReal + "/"
        guard target.utf8.elementsEqual(rootReal.utf8) || target.utf8.starts(with: below.utf8) else { return nil }
        let fd = open(target, flags | O_NOFOLLOW)
        return fd >= 0 ? fd : nil
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
