#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Something to watch, and what a change to it means to the caller.
package enum WatchTarget<Meaning: Hashable & Sendable>: Hashable, Sendable {
    /// One entry of a directory, by name: a file, or a directory replaced as a whole.
    ///
    /// The parent directory is what is watched, since editors save by writing a new file and
    /// renaming it over the old one: a watch on the old file's inode would see nothing after
    /// the first save.
    case entry(path: String, meaning: Meaning)
    /// Everything below a directory, with its subdirectories, also those made later.
    case tree(path: String, meaning: Meaning)
}

/// Reports changes to files and directory trees, using Linux's inotify(7).
///
/// A thread reads the events and hands each change on as it comes; bursts (an editor's save
/// is several events, a `git checkout` hundreds) are for the caller to debounce (see
/// `ChangeBurst`). The set of targets can be replaced at any time; directories that stay
/// watched keep their watch, so no event between two sets is lost. A watcher lasts as long as
/// the process (`berth dev` has one): its thread blocks in read(2) for good.
package final class FileWatcher<Meaning: Hashable & Sendable>: Sendable {
    /// A change: what it means, and the path that changed.
    package typealias Handler = @Sendable (Meaning, String) -> Void

    /// What is watched, and who is interested in each watched directory's events.
    private struct Table {
        /// Watch descriptor → the directory it watches.
        var directories: [Int32: String] = [:]
        /// Directory → its watch descriptor.
        var descriptors: [String: Int32] = [:]
        /// Directory → the interests in its entries.
        var interests: [String: [Interest]] = [:]
    }

    private struct Interest: Hashable {
        /// The one entry of interest, or nil for every entry (a tree).
        var name: String?
        var meaning: Meaning
    }

    /// Events that say an entry of a directory was written, appeared, went or was replaced.
    /// IN_CLOSE_WRITE rather than IN_MODIFY: one event per save, not one per write(2).
    private static var mask: UInt32 {
        UInt32(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
    }

    private let fd: Int32
    private let table = Mutex(Table())
    private let handler: Handler

    /// Starts the reading thread. Fails when inotify cannot be had (the per-user instance
    /// limit), with the system's reason.
    package init(onChange handler: @escaping Handler) throws(CLIError) {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw CLIError("cannot watch files: inotify_init1: \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.handler = handler
        DetachedThread.start(name: "berth.watch") { [self] in self.readEvents() }
    }

    /// Watches exactly `targets` from now on. Returns the paths that cannot be watched (a
    /// missing directory, the system's watch limit), each with the reason.
    @discardableResult
    package func watch(_ targets: Set<WatchTarget<Meaning>>) -> [String] {
        var wanted: [String: Set<Interest>] = [:]
        var trees: [(String, Meaning)] = []
        for target in targets {
            switch target {
            case .entry(let path, let meaning):
                let (directory, name) = Self.split(path)
                wanted[directory, default: []].insert(Interest(name: name, meaning: meaning))
            case .tree(let path, let meaning):
                trees.append((path, meaning))
            }
        }
        for (root, meaning) in trees {
            for directory in Self.directories(under: root) {
                wanted[directory, default: []].insert(Interest(name: nil, meaning: meaning))
            }
        }
        return self.table.withLock { table in
            var problems: [String] = []
            for (directory, wd) in table.descriptors where wanted[directory] == nil {
                inotify_rm_watch(self.fd, wd)
                table.descriptors[directory] = nil
                table.directories[wd] = nil
            }
            table.interests = [:]
            for (directory, interests) in wanted {
                if let problem = self.add(directory, to: &table) {
                    problems.append(problem)
                    continue
                }
                table.interests[directory] = Array(interests)
            }
            return problems.sorted()
        }
    }

    /// Adds a watch on `directory` unless it has one; the reason when it cannot.
    private func add(_ directory: String, to table: inout Table) -> String? {
        if table.descriptors[directory] != nil { return nil }
        let wd = inotify_add_watch(self.fd, directory, Self.mask)
        guard wd >= 0 else {
            let reason = errno == ENOSPC
                ? "the limit of inotify watches is reached (raise fs.inotify.max_user_watches)"
                : String(cString: strerror(errno))
            return "\(directory): \(reason)"
        }
        // A directory renamed away and back gets the same descriptor under another path.
        if let old = table.directories[wd] { table.descriptors[old] = nil }
        table.directories[wd] = directory
        table.descriptors[directory] = wd
        return nil
    }

    private func readEvents() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(self.fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            var changes: [(Meaning, String)] = []
            self.table.withLock { table in
                var offset = 0
                let header = MemoryLayout<inotify_event>.size
                while offset + header <= count {
                    let (wd, mask, length) = buffer.withUnsafeBytes { bytes in
                        let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                        return (event.wd, event.mask, Int(event.len))
                    }
                    let nameBytes = buffer[(offset + header)..<min(offset + header + length, count)].prefix { $0 != 0 }
                    offset += header + length
                    changes += self.interpret(wd: wd, mask: mask, name: String(decoding: nameBytes, as: UTF8.self), in: &table)
                }
            }
            for (meaning, path) in changes { self.handler(meaning, path) }
        }
    }

    /// What one event means to the interests in its directory; new subdirectories of a tree
    /// are watched at once (and what they already hold counts as changed).
    private func interpret(wd: Int32, mask: UInt32, name: String, in table: inout Table) -> [(Meaning, String)] {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            // Events were lost: every interest may have changed.
            return table.interests.flatMap { directory, interests in interests.map { ($0.meaning, directory) } }
        }
        guard let directory = table.directories[wd] else { return [] }
        if mask & UInt32(IN_IGNORED) != 0 {
            // The directory went away; a tree's parent reports it too.
            table.directories[wd] = nil
            if table.descriptors[directory] == wd { table.descriptors[directory] = nil }
            return []
        }
        let interests = table.interests[directory] ?? []
        let path = name.isEmpty ? directory : directory + "/" + name
        var changes: [(Meaning, String)] = []
        for interest in interests where interest.name == nil || interest.name == name {
            changes.append((interest.meaning, path))
        }
        let isDirectory = mask & UInt32(IN_ISDIR) != 0
        let appeared = mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0
        if isDirectory && appeared && !name.isEmpty {
            for interest in interests where interest.name == nil {
                for subdirectory in Self.directories(under: path) where self.add(subdirectory, to: &table) == nil {
                    table.interests[subdirectory, default: []].append(interest)
                }
            }
        }
        return changes
    }

    /// `path`'s folder and last component.
    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, String(path[path.index(after: slash)...]))
    }

    /// `root` and every directory below it (symlinks are not followed: a link to `/` must not
    /// make the watcher walk the disk).
    static func directories(under root: String) -> [String] {
        var found: [String] = []
        var pending = [root]
        while let directory = pending.popLast() {
            guard let stream = opendir(directory) else { continue }
            found.append(directory)
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard name != "." && name != ".." else { continue }
                if entry.pointee.d_type == UInt8(DT_DIR) {
                    pending.append(directory + "/" + name)
                } else if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                    var info = stat()
                    if lstat(directory + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                        pending.append(directory + "/" + name)
                    }
                }
            }
            closedir(stream)
        }
        return found
    }
}
