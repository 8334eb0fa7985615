/// Names a typed value that middleware keeps on a request for handlers to read, the way
/// `Vapor`'s `StorageKey` does: the key is a type, so two modules cannot clash by spelling the
/// same string, and the value comes back with its type.
///
/// ```swift
/// enum CurrentUser: RequestValueKey { typealias Value = User }
///
/// router.use { request, next in
///     var request = request
///     request.values[CurrentUser.self] = try await users.find(token: request.headers["Authorization"])
///     return try await next(request)
/// }
/// router.get("/me") { request in request.values[CurrentUser.self]?.name ?? "nobody" }
/// ```
public protocol RequestValueKey {
    /// The type of the value stored under this key.
    associatedtype Value: Sendable
}

/// Values stored on one request under ``RequestValueKey`` types; empty when the request
/// arrives. Being part of the ``Request`` value, they travel with it down the middleware chain
/// to the handler and vanish with it.
public struct RequestValues: Sendable {
    private var values: [ObjectIdentifier: any Sendable] = [:]

    /// No values.
    public init() {}

    /// The value stored under `key`; setting `nil` removes it.
    public subscript<Key: RequestValueKey>(key: Key.Type) -> Key.Value? {
        get { values[ObjectIdentifier(key)] as? Key.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }

    /// Whether nothing is stored.
    public var isEmpty: Bool { values.isEmpty }
}
