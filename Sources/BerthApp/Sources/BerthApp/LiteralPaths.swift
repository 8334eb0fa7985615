#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Values by literal path (`"/notes/all"`), found by the path's bytes: every app request asks,
/// and a `Dictionary` hashes the whole path (SipHash) before it compares. Here a path's length
/// and two of its bytes pick one of a few buckets, and `memcmp` compares within it.
///
/// Byte equality, not `String`'s canonical equivalence: a path that only equals a key
/// canonically is not found here, and the router's walk of its tree (which compares segments as
/// strings) finds its route instead. So this is a shortcut and never a different answer.
struct LiteralPaths<Value: Sendable>: Sendable {
    private static var bucketCount: Int { 64 }
    private var buckets: [[(path: String, value: Value)]] = Array(repeating: [], count: Self.bucketCount)

    /// The value for `path`, made with `make` when there is none, changed by `change`.
    mutating func update(_ path: String, default make: @autoclosure () -> Value, _ change: (inout Value) -> Void) {
        let slot = Self.slot(of: path)
        if let index = self.buckets[slot].firstIndex(where: { Self.sameBytes($0.path, path) }) {
            change(&self.buckets[slot][index].value)
        } else {
            var value = make()
            change(&value)
            self.buckets[slot].append((path, value))
        }
    }

    subscript(path: String) -> Value? {
        let bucket = self.buckets[Self.slot(of: path)]
        for entry in bucket where Self.sameBytes(entry.path, path) { return entry.value }
        return nil
    }

    private static func slot(of path: String) -> Int {
        let bytes = path.utf8
        let count = bytes.count
        guard count > 0 else { return 0 }
        // The last byte and the middle one tell most of an app's paths apart; the length the rest.
        let last = Int(bytes[bytes.index(bytes.startIndex, offsetBy: count - 1)])
        let middle = Int(bytes[bytes.index(bytes.startIndex, offsetBy: count / 2)])
        return (count &* 7 &+ last &* 3 &+ middle) & (Self.bucketCount - 1)
    }

    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a
        var b = b
        return a.withUTF8 { a in
            b.withUTF8 { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
    }
}
