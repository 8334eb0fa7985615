import Synchronization

/// Runs a check once a second between the app's `start()` and `stop()`: how a worker learns of
/// notes other worker processes changed in the shared file (there is no channel between
/// workers; the file is the one thing they share). One second bounds how late such a change
/// reaches a page; a change made through this worker is sent at once.
final class OutsideChangeWatcher: Sendable {
    static let interval = Duration.seconds(1)

    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Runs `check` every ``interval``. `failed` hears of a failure once, not every second,
    /// until `check` succeeds again or fails differently.
    func start(_ check: @escaping @Sendable () async throws -> Void, failed: @escaping @Sendable (any Error) -> Void) {
        let started = Task {
            var lastFailure: String?
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                guard !Task.isCancelled else { return }
                do {
                    try await check()
                    lastFailure = nil
                } catch {
                    let text = "\(error)"
                    if text != lastFailure { failed(error) }
                    lastFailure = text
                }
            }
        }
        task.withLock { $0?.cancel(); $0 = started }
    }

    func stop() async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
