internal import Yams

/// A redirect: the `redirect:` key of a path (or of a host in shorthand form).
///
/// ```yaml
/// redirect:
///   to: "https://shop.test/new"   # required: an http(s) URL or a path starting with '/'
///   status: 301                   # 301 (default), 302, 303, 307 or 308
///   keep_path: false              # true: append the request path below the prefix and the query
/// redirect: "https://shop.test"   # shorthand for { to: ... } with the defaults
/// ```
public struct RedirectConfig: Sendable, Equatable {
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
public struct AppRouteConfig: Sendable, Equatable {
    public var app: String

    public init(app: String) {
        self.app = app
    }
}

extension ConfigReader {
    static let redirectKeys = ["to", "status", "keep_path"]

    func readRedirect(_ node: Node, owner: String) -> RedirectConfig? {
        if node.scalar != nil {
            return redirectTarget(node).map { RedirectConfig(target: $0) }
        }
        let context = "in 'redirect' of \(owner)"
        guard let fields = fields(of: node, expected: "a redirect like { to: \"https://example.test\" }",
                                  context: context, allowed: ConfigReader.redirectKeys)
        else { return nil }
        var valid = true
        var redirect = RedirectConfig(target: "")
        if let target = required("to", in: fields, context: context, expected: "the URL to redirect to")
            .flatMap(redirectTarget) {
            redirect.target = target
        } else {
            valid = false
        }
        if let statusNode = fields["status"] {
            let allowed = RedirectConfig.allowedStatuses.map(String.init)
            let expected = "a redirect status (" + allowed.dropLast().joined(separator: ", ")
                + " or " + allowed.last! + ")"
            if let status = integer(statusNode, in: 0...999, expected: expected),
               RedirectConfig.allowedStatuses.contains(status) {
                redirect.status = status
            } else {
                if let status = Int(statusNode.scalar?.string ?? ""), (0...999).contains(status) {
                    error("expected \(expected), found \(status)", at: statusNode)
                }
                valid = false
            }
        }
        if let keepPath = fields["keep_path"] {
            if let value = bool(keepPath) { redirect.keepPath = value } else { valid = false }
        }
        return valid ? redirect : nil
    }

    /// An absolute http(s) URL, or a path on the same host. A bare `example.test` would be
    /// taken by browsers as a relative path, which is never what was meant.
    private func redirectTarget(_ node: Node) -> String? {
        let expected = "a URL like https://example.test/ or a path starting with '/'"
        guard let target = headerValue(node, expected: expected) else { return nil }
        let lowered = target.lowercased()
        let schemeLength = lowered.hasPrefix("https://") ? 8 : lowered.hasPrefix("http://") ? 7 : 0
        let hasHost = schemeLength > 0 && target.count > schemeLength
            && !target.dropFirst(schemeLength).hasPrefix("/")
        guard hasHost || (target.hasPrefix("/") && !target.hasPrefix("//")),
              !target.contains(where: \.isWhitespace)
        else {
            error("expected \(expected), found '\(target)'", at: node)
            return nil
        }
        return target
    }
}
