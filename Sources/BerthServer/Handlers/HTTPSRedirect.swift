import BerthConfig
import NIOCore
import Synchronization

/// The port plain-HTTP requests are redirected to: the first `tls` listener's. Known from the
/// file, except for `port: 0`, where the kernel's choice is filled in once the listener is bound.
final class HTTPSPort: Sendable {
    private let value: Atomic<Int>

    init(_ listeners: [ListenerConfig] = []) {
        self.value = Atomic(listeners.first(where: \.tls)?.port ?? 443)
    }

    var port: Int { self.value.load(ordering: .relaxed) }

    func bound(_ port: Int) {
        self.value.store(port, ordering: .relaxed)
    }
}

/// A host's `redirect_http`: requests that arrive over plain HTTP get 308 Permanent Redirect to
/// the same URL on https (RFC 9110 §15.4.9 keeps the method and body, unlike 301). This is the
/// first step of RFC 6797 §7.2: HSTS itself is only ever sent over TLS.
struct HTTPSRedirect: Sendable {
    let port: HTTPSPort

    /// ACME HTTP-01 challenges (RFC 8555 §8.3) must stay reachable over plain HTTP, or a host
    /// that redirects could never renew its certificate.
    static let exemptPrefix = "/.well-known/acme-challenge/"

    /// The `Location` for a request, or nil when this request is served over plain HTTP after all.
    /// The host part is the name the client asked for when the host claims it (an alias, a
    /// wildcard match), else the host's own name: an unknown name that fell through to the
    /// default host is never echoed into a redirect.
    func location(uri: String, path: String, authority: String?, host: VirtualHost) -> String? {
        if path.hasPrefix(Self.exemptPrefix) { return nil }
        var name = host.name
        if let authority, let asked = HostTable.hostName(of: authority), host.claims(asked) {
            name = asked
        }
        if name.hasPrefix("*.") { return nil }
        let port = self.port.port
        var location = "https://" + name + (port == 443 ? "" : ":\(port)")
        location += Self.pathAndQuery(of: uri)
        return location
    }

    /// The origin-form part of a request target, exactly as the client sent it: `/a?b` stays
    /// `/a?b`, absolute-form `http://h/a?b` gives `/a?b`, asterisk-form gives `/`.
    static func pathAndQuery(of uri: String) -> String {
        if uri.hasPrefix("/") { return uri }
        guard let scheme = uri.firstRange(of: "://") else { return "/" }
        let rest = uri[scheme.upperBound...]
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let tail = rest[slash...]
        return tail.hasPrefix("?") ? "/" + tail : String(tail)
    }

    static func response(to location: String) -> ResponseMessage {
        .page(308, fields: [("Location", location)])
    }
}

extension VirtualHost {
    /// Whether `name` (lowercased, no port) is one of the host's names or matches one of its
    /// `*.suffix` names.
    func claims(_ name: String) -> Bool {
        for pattern in self.names {
            if pattern == name { return true }
            if pattern.hasPrefix("*."), name.hasSuffix(pattern.dropFirst()), name.utf8.count > pattern.utf8.count - 1 {
                return true
            }
        }
        return false
    }
}
