/// What `fstatat` said about sites' paths during one event-loop tick, so that the requests
/// read in one tick (often dozens under load, many for the same hot file) pay one `fstatat`
/// per path rather than one each.
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

    private var statuses: [Key: FileStatus?] = [:]
    private var clearingScheduled = false

    public init() {}

    /// The memo holds answers and nobody has been asked to clear it yet: the caller schedules
    /// `clear` for the end of the current tick. True once per filling.
    public func needsClearing() -> Bool {
        guard !self.statuses.isEmpty, !self.clearingScheduled else { return false }
        self.clearingScheduled = true
        return true
    }

    public func clear() {
        self.statuses.removeAll(keepingCapacity: true)
        self.clearingScheduled = false
    }

    /// The remembered answer for `relative`, or a fresh `fstatat` that is remembered.
    func status(_ relative: String, in root: RootDirectory) -> FileStatus? {
        let key = Key(root: root, relative: relative)
        if let known = self.statuses[key] { return known }
        let status = root.status(relative)
        self.statuses[key] = status
        return status
    }
}
