import BerthStatic
import NIOCore
import Synchronization

/// Compressed variants of static files, kept so that a hot file is compressed once per worker
/// rather than on every request. Bounded in bytes; the least recently used go first. Keyed by
/// the file's identity (device, inode, size, times) with the coding and level, so a changed
/// file is never answered with an old variant: its new identity misses, and the old entry
/// ages out. Shared by the worker's event loops; compressing happens outside the lock.
final class VariantCache: Sendable {
    struct Key: Hashable, Sendable {
        var identity: FileIdentity
        var coding: ContentCoding
        var level: Int
    }

    private struct Entry {
        var bytes: ByteBuffer
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var clock: UInt64 = 0
        var bytes = 0
    }

    /// Bytes of compressed content the cache holds at most (0: none).
    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The variant of `source` in `coding` at `level`: cached, or compressed now (and kept when
    /// it fits). Nil when the file cannot be read or compressed.
    func variant(of source: FileVariantSource, coding: ContentCoding, level: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let key = Key(identity: source.identity, coding: coding, level: level)
        if let hit = self.lookup(key) { return hit }
        guard let contents = source.contents(),
              let compressed = ContentEncoder.compress(contents, coding: coding, level: level, allocator: allocator)
        else { return nil }
        // The encoder's output buffer is sized for the worst case (Brotli's bound is larger
        // than the input): kept as it is, a 20 KiB variant would hold 64 KiB. The cache keeps
        // a copy that fits.
        var fitted = allocator.buffer(capacity: compressed.readableBytes)
        fitted.writeImmutableBuffer(compressed)
        self.insert(fitted, for: key)
        return fitted
    }

    func lookup(_ key: Key) -> ByteBuffer? {
        self.state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            state.clock &+= 1
            state.entries[key]?.lastUse = state.clock
            return entry.bytes
        }
    }

    /// A variant larger than a quarter of the bound is not kept: one file must not push out
    /// every other. Sizes count the memory a buffer holds (its capacity), not only its bytes.
    func insert(_ bytes: ByteBuffer, for key: Key) {
        let size = bytes.capacity
        guard size <= self.capacity / 4 else { return }
        // Evicted buffers are released after the lock is let go.
        var evicted: [ByteBuffer] = []
        self.state.withLock { state in
            state.clock &+= 1
            if let old = state.entries.updateValue(Entry(bytes: bytes, lastUse: state.clock), forKey: key) {
                state.bytes -= old.bytes.capacity
                evicted.append(old.bytes)
            }
            state.bytes += size
            guard state.bytes > self.capacity else { return }
            // Down to 7/8 of the bound in one pass, so the sort is paid once per many inserts.
            for (key, entry) in state.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                if state.bytes <= self.capacity * 7 / 8 { break }
                state.entries[key] = nil
                state.bytes -= entry.bytes.capacity
                evicted.append(entry.bytes)
            }
        }
        _ = evicted
    }

    /// Bytes held now.
    var size: Int { self.state.withLock { $0.bytes } }
    var count: Int { self.state.withLock { $0.entries.count } }
}
