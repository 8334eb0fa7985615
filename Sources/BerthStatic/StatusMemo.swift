/// What `fstatat` said about sites' paths during one event-loop tick, so that the requests
/// read in one tick (often dozens under load, many for the same hot file) pay one `fstatat`
/// per path rather than one each. The open file found for that status is kept beside it, so
/// those requests also skip the shared open-file cache (its lock and its lookup).
///
/// Those requests arrived together: answering all of them from one look at the file is what
/// answering them a moment earlier, at once, would have done. The owner empties the memo at
/// the end of the tick (`needsClearing`, `clear`), so a file changed between ticks is seen by
/// the next request, as without the memo. Only one thread uses a memo (see the server's
/// static handler, which keeps one per event loop thread).
public final class StatusMemo: @unchecked Sendable {
    /// A path under one root. The key holds the root, so no other root can take its place
    /// (and its identity) while an answer about it is remembered.
    private struct Key: Hashable {
        let root: RootDirectory
        let relative: String

        static func == (a: Key, b: Key) -> Bool { a.root === b.root && a.relative == b.relative }

        func hash(into hasher: inout Hasher) {
            hasher.combine(ObjectIdentifier(self.root))
            hasher.combine(self.relative)
        }
    }

    /// A path's status this tick, and the cached file that matched it once one was asked for.
    struct Look {
        var status: FileStatus?
        var file: CachedFile?
    }

    private var looks: [Key: Look] = [:]
    private var clearingScheduled = false

    public init() {}

    /// The memo holds answers and nobody has been asked to clear it yet: the caller schedules
    /// `clear` for the end of the current tick. True once per filling.
    public func needsClearing() -> Bool {
        guard !self.looks.isEmpty, !self.clearingScheduled else { return false }
        self.clearingScheduled = true
        return true
    }

    public func clear() {
        self.looks.removeAll(keepingCapacity: true)
        self.clearingScheduled = false
    }

    /// The remembered look at `relative`, or a fresh `fstatat` that is remembered.
    func look(_ relative: String, in root: RootDirectory) -> Look {
        let key = Key(root: root, relative: relative)
        if let known = self.looks[key] { return known }
        let look = Look(status: root.status(relative))
        self.looks[key] = look
        return look
    }

    /// Keeps the open file that matched this tick's status of `relative`.
    func remember(_ file: CachedFile, for relative: String, in root: RootDirectory) {
        self.looks[Key(root: root, relative: relative)]?.file = file
    }
}
