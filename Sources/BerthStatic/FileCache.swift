import Synchronization

/// Bounded cache of open files keyed by path relative to the site root.
///
/// An entry is only ever returned for a file whose current `fstatat` identity (device, inode,
/// size, mtime, ctime) equals the one recorded when it was opened, so a file replaced by
/// rename, written in place or deleted is never served stale: the caller pays one stat per
/// request (or per event-loop tick, with a ``StatusMemo``) instead of open + fstat + close. Missing files are not remembered (a file that
/// appears is served at once). Confinement was checked when the entry was opened; a later hit
/// is the very same inode, so it serves nothing that was not reachable inside the root.
final class FileCache: Sendable {
    private struct Slot {
        var file: CachedFile
        var lastUse: UInt64
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var clock: UInt64 = 0
        var contentBytes: Int64 = 0
    }

    let capacity: Int
    let contentBudget: Int64
    private let state = Mutex(State())

    init(capacity: Int = 4096, contentBudget: Int64 = 64 * 1024 * 1024) {
        self.capacity = max(1, capacity)
        self.contentBudget = contentBudget
    }

    /// The cached file for `path` if it still has `identity`; a stale entry is dropped.
    func lookup(_ path: String, identity: FileIdentity) -> CachedFile? {
        let (hit, stale) = state.withLock { state -> (CachedFile?, CachedFile?) in
            // One hash of the path per hit: the slot is found once and updated through its index.
            guard let index = state.slots.index(forKey: path) else { return (nil, nil) }
            let file = state.slots.values[index].file
            guard file.identity == identity else {
                return (nil, Self.remove(path, from: &state))
            }
            state.clock &+= 1
            state.slots.values[index].lastUse = state.clock
            return (file, nil)
        }
        _ = stale  // released here, outside the lock (its deinit may close a descriptor)
        return hit
    }

    func insert(_ file: CachedFile, for path: String) {
        // Dropped entries are released after the lock is let go: their deinit closes a
        // descriptor, and a syscall does not belong inside the critical section.
        var evicted: [CachedFile] = []
        state.withLock { state in
            if let old = state.slots[path] { evicted.append(old.file) }
            Self.remove(path, from: &state)
            state.clock &+= 1
            state.slots[path] = Slot(file: file, lastUse: state.clock)
            state.contentBytes += Int64(file.contents?.readableBytes ?? 0)
            if state.slots.count > capacity {
                evicted += Self.evictOldest(from: &state, until: { $0.slots.count <= self.capacity * 7 / 8 })
            }
            if state.contentBytes > contentBudget {
                evicted += Self.evictOldest(
                    from: &state,
                    until: { $0.contentBytes <= self.contentBudget * 7 / 8 },
                    onlyWithContents: true
                )
            }
        }
        _ = evicted
    }

    func remove(_ path: String) {
        let removed = state.withLock { state in Self.remove(path, from: &state) }
        _ = removed
    }

    var count: Int { state.withLock { $0.slots.count } }

    @discardableResult
    private static func remove(_ path: String, from state: inout State) -> CachedFile? {
        guard let slot = state.slots.removeValue(forKey: path) else { return nil }
        state.contentBytes -= Int64(slot.file.contents?.readableBytes ?? 0)
        return slot.file
    }

    /// Drops least recently used entries in one batch (down to 7/8 of the bound), so the sort
    /// is paid once per many inserts rather than on each.
    private static func evictOldest(
        from state: inout State,
        until satisfied: (State) -> Bool,
        onlyWithContents: Bool = false
    ) -> [CachedFile] {
        let candidates = state.slots
            .filter { !onlyWithContents || $0.value.file.contents != nil }
            .sorted { $0.value.lastUse < $1.value.lastUse }
        var evicted: [CachedFile] = []
        for (path, _) in candidates {
            if satisfied(state) { break }
            if let file = remove(path, from: &state) { evicted.append(file) }
        }
        return evicted
    }
}
