/// A redirect: the `redirect:` key of a path (or of a host in shorthand form).
///
/// ```yaml
/// redirect:
///   to: "https://shop.test/new"   # required: an http(s) URL or a path starting with '/'
///   status: 301                   # 301 (default), 302, 303, 307 or 308
///   keep_path: false              # true: append the request path below the prefix and the query
/// redirect: "https://shop.test"   # shorthand for { to: ... } with the defaults
/// ```
public struct RedirectConfig: Sendable, Equatable, Codable {
    public var target: String
    public var status: Int
    /// With `/old` → `https://x.test/new`, a request for `/old/a?b=1` goes to
    /// `https://x.test/new/a?b=1` when true, and to `https://x.test/new` when false.
    public var keepPath: Bool

    public init(target: String, status: Int = 301, keepPath: Bool = false) {
        self.target = target
        self.status = status
        self.keepPath = keepPath
    }

    /// The statuses that mean "redirect" (RFC 9110, section 15.4); 300 and 304 do not.
    public static let allowedStatuses = [301, 302, 303, 307, 308]
}

/// A path served by an app under `apps:`.
public struct AppRouteConfig: Sendable, Equatable, Codable {
    public var app: String

    public init(app: String) {
        self.app = app
    }
}
