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
