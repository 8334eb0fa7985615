@_spi(BerthServer) import BerthApp
import BerthStatic
import NIOPosix

extension ThreadSpecificVariable {
    /// The calling thread's value, made by `make` (and kept) on the thread's first call.
    func currentOrMake(_ make: () -> Value) -> Value {
        if let value = self.currentValue { return value }
        let value = make()
        self.currentValue = value
        return value
    }
}

/// What one event-loop thread keeps for the requests it serves, whatever their connection: a
/// connection looks its thread's up once (`ExchangeTransport.loopLocals`), since a
/// thread-specific lookup per request costs a call and a cast each time. Only its own thread
/// uses it (hence unchecked).
final class LoopLocals: @unchecked Sendable {
    private static let perThread = ThreadSpecificVariable<LoopLocals>()

    /// The calling thread's.
    static var current: LoopLocals {
        Self.perThread.currentOrMake { LoopLocals() }
    }

    /// The `fstatat` answers of the thread's current tick, for every site (see `StatusMemo`).
    let statusMemo = StatusMemo()
    /// The buffer HTTP/1.1 answers are written into, and the storage of app bodies.
    let responseBuffers = ResponseBuffers()
    /// How long app steps hold the thread (see `StepHold`).
    let stepClock = StepClock()
    /// The last app request's route note and empty body, taken again by the next request
    /// once nothing holds them (`RouteNote.fresh`, `RequestBody.empty`).
    var routeNote: RouteNote?
    var emptyBody: RequestBody?
}
