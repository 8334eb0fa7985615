import Synchronization

/// What `fstatat` said about sites' paths during one event-loop tick, so that the requests
/// read in one tick (often dozens under load, many for the same hot file) pay one `fstatat`
/// per path rather than one each. The open file found for that status is kept beside it, so
/// those requests also skip the shared open-file cache (its lock and its lookup); and a file's
/// full answer (200) to an unconditional GET or HEAD is kept too, so the same request again in
/// the tick gets it without the path being checked and looked at again.
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

    /// A request the same tick answered already: the same path of the same site, both
    /// unconditional, HEAD or not, with the same Accept-Encoding (which picks a sidecar).
    private struct AnswerKey: Hashable {
        let root: RootDirectory
        let path: String
        let isHead: Bool
        let acceptEncoding: String?

        static func == (a: AnswerKey, b: AnswerKey) -> Bool {
            a.root === b.root && a.isHead == b.isHead && a.path == b.path && a.acceptEncoding == b.acceptEncoding
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(ObjectIdentifier(self.root))
            hasher.combine(self.path)
            hasher.combine(self.isHead)
            hasher.combine(self.acceptEncoding)
        }
    }

    private var answers: [AnswerKey: StaticResponse] = [:]
    private var clearingScheduled = false

    /// A small number no other memo has: the memo's thread's place among the descriptors a
    /// cached file keeps per thread (`CachedFile.openFile(forThread:)`).
    public let thread: Int
    private static let threadsSoFar = Atomic<Int>(0)

    public init() {
        self.thread = Self.threadsSoFar.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// The memo holds answers and nobody has been asked to clear it yet: the caller schedules
    /// `clear` for the end of the current tick. True once per filling.
    public func needsClearing() -> Bool {
        guard !(self.looks.isEmpty && self.answers.isEmpty), !self.clearingScheduled else { return false }
        self.clearingScheduled = true
        return true
    }

    public func clear() {
        self.looks.removeAll(keepingCapacity: true)
        self.answers.removeAll(keepingCapacity: true)
        self.clearingScheduled = false
    }

    /// The remembered look at `relative`, or a fresh `fstatat` that is remembered (and handed
    /// to `whenFresh` first).
    func look(_ relative: String, in root: RootDirectory, whenFresh: (Look) -> Void = { _ in }) -> Look {
        let key = Key(root: root, relative: relative)
        if let known = self.looks[key] { return known }
        let look = Look(status: root.status(relative))
        whenFresh(look)
        self.looks[key] = look
        return look
    }

    /// The full answer this tick gave to the same unconditional request, if any.
    func answer(to request: StaticRequest, in root: RootDirectory) -> StaticResponse? {
        self.answers[AnswerKey(root: root, path: request.path, isHead: request.method == "HEAD",
                               acceptEncoding: request.headers.acceptEncoding)]
    }

    /// Keeps a full answer to an unconditional request for the rest of the tick.
    func remember(_ answer: StaticResponse, to request: StaticRequest, in root: RootDirectory) {
        self.answers[AnswerKey(root: root, path: request.path, isHead: request.method == "HEAD",
                               acceptEncoding: request.headers.acceptEncoding)] = answer
    }

    /// Keeps the open file that matched this tick's status of `relative`.
    func remember(_ file: CachedFile, for relative: String, in root: RootDirectory) {
        self.looks[Key(root: root, relative: relative)]?.file = file
    }
}
