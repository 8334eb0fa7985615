#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import BerthConfig
import BerthStatic
import NIOCore

/// One virtual host of a configuration generation: its names and its path routes,
/// longest prefix first.
final class VirtualHost: Sendable {
    let name: String
    /// The primary name followed by the aliases, lowercased; may contain `*.suffix` names.
    let names: [String]
    let isDefault: Bool
    let routes: [PathRoute]
    let accessLog: AccessLog?
    /// `redirect_http`: plain-HTTP requests are redirected to https.
    let httpsRedirect: HTTPSRedirect?
    /// `hsts`: the Strict-Transport-Security value for responses over TLS.
    let hsts: String?

    init(name: String, names: [String], isDefault: Bool, routes: [PathRoute], accessLog: AccessLog?,
         httpsRedirect: HTTPSRedirect? = nil, hsts: String? = nil) {
        self.name = name
        self.names = names
        self.isDefault = isDefault
        self.routes = routes.sorted { $0.prefix.utf8.count > $1.prefix.utf8.count }
        self.accessLog = accessLog
        self.httpsRedirect = httpsRedirect
        self.hsts = hsts
    }

    /// Longest-prefix match on whole path segments: "/api" matches "/api" and "/api/x",
    /// never "/apix".
    func route(for path: String) -> PathRoute? {
        for route in self.routes where route.matches(path) {
            return route
        }
        return nil
    }
}

/// A path prefix of a host and what serves it: handlers tried in order until one answers.
/// A class: every exchange refers to its route, and a reference costs one retain where a
/// struct of five collections costs five.
final class PathRoute: Sendable {
    let prefix: String
    let handlers: [any RouteHandler]
    /// Extra response headers configured for the host and path (path wins on the same name).
    let headers: ConfiguredHeaders
    let errorPages: [Int: ErrorPage]
    /// `compress:`; nil: off.
    let compression: CompressionSettings?

    init(prefix: String, handlers: [any RouteHandler], headers: [(String, String)], errorPages: [Int: ErrorPage],
         compression: CompressionSettings? = nil) {
        self.prefix = prefix
        self.handlers = handlers
        self.headers = ConfiguredHeaders(headers)
        self.errorPages = errorPages
        self.compression = compression
    }

    /// Whether `path` is the prefix or below it, compared byte for byte as nginx compares
    /// locations. (String's own `hasPrefix` compares canonically equivalent characters: a
    /// precomposed "é" in the request against a decomposed one in the prefix passed it, and
    /// counting the prefix's bytes into the shorter path then ran past its end.)
    func matches(_ path: String) -> Bool {
        if self.prefix == "/" { return true }
        var path = path
        var prefix = self.prefix
        // In place, with `memcmp`: a generic walk of two UTF-8 views cost more than the rest
        // of routing, and every request is routed.
        return path.withUTF8 { path in
            prefix.withUTF8 { prefix in
                guard path.count >= prefix.count, let start = path.baseAddress, let wanted = prefix.baseAddress,
                    memcmp(start, wanted, prefix.count) == 0
                else { return false }
                return path.count == prefix.count || prefix[prefix.count - 1] == UInt8(ascii: "/")
                    || path[prefix.count] == UInt8(ascii: "/")
            }
        }
    }

    /// The part of `path` (one the route `matches`) below the prefix, always starting with "/".
    func remainder(of path: String) -> String {
        if self.prefix == "/" { return path }
        let bytes = path.utf8
        var below = self.prefix.utf8.count
        if self.prefix.utf8.last == UInt8(ascii: "/") { below -= 1 }
        guard let start = bytes.index(bytes.startIndex, offsetBy: below, limitedBy: bytes.endIndex), start < bytes.endIndex else { return "/" }
        return String(Substring(bytes[start...]))
    }
}

/// A configured error page, read once when the generation is built.
struct ErrorPage: Sendable {
    let body: ByteBuffer
    let contentType: String
}
