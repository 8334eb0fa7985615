/// Debouncing of file changes: an editor's save is several events (a temporary file written,
/// renamed over the old one, its attributes set), a formatter or `git checkout` touches many
/// files at once. Changes are gathered until none came for `quiet` seconds, or `longest`
/// seconds after the first, whichever is sooner, and then handed out as one batch.
///
/// A plain value: the caller keeps the clock and the timer, and asks `due(at:)` when the
/// deadline that `record` returned has come.
package struct ChangeBurst<Change: Hashable> {
    /// Quiet time that ends a burst. Editors finish a save within a few milliseconds; a
    /// quarter second also covers a formatter run on save, and is still not felt as a delay.
    package let quiet: Double
    /// A stream of changes that never pauses (a generator writing files) is still acted on.
    package let longest: Double

    private var changes: [Change] = []
    private var first: Double?
    private var last: Double = 0

    package init(quiet: Double = 0.25, longest: Double = 2) {
        self.quiet = quiet
        self.longest = longest
    }

    package var isEmpty: Bool { self.changes.isEmpty }

    /// Adds a change seen at `now`; returns when to call `due(at:)` next.
    package mutating func record(_ change: Change, at now: Double) -> Double {
        if !self.changes.contains(change) { self.changes.append(change) }
        if self.first == nil { self.first = now }
        self.last = now
        return self.deadline
    }

    /// The batch when the burst is over at `now` (the burst starts afresh); otherwise nil,
    /// and `deadline` says when to ask again.
    package mutating func due(at now: Double) -> [Change]? {
        guard self.first != nil, now >= self.deadline else { return nil }
        defer {
            self.changes = []
            self.first = nil
        }
        return self.changes
    }

    /// When the current burst ends unless another change comes first.
    package var deadline: Double {
        guard let first = self.first else { return .infinity }
        return min(self.last + self.quiet, first + self.longest)
    }
}
