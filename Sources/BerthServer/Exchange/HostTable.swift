/// Finds the virtual host for a request: exact names and aliases first, then `*.suffix`
/// wildcards (longest suffix wins), then the default host. Built once per configuration
/// generation and never mutated, so lookups need no locks.
struct HostTable: Sendable {
    private let exact: [String: VirtualHost]
    /// Wildcard suffixes including the leading dot (".old.test"), longest first.
    private let wildcards: [(suffix: String, host: VirtualHost)]
    let defaultHost: VirtualHost?

    init(hosts: [VirtualHost]) {
        var exact: [String: VirtualHost] = [:]
        var wildcards: [(String, VirtualHost)] = []
        var defaultHost: VirtualHost?
        for host in hosts {
            for name in host.names {
                if name.hasPrefix("*.") {
                    wildcards.append((String(name.dropFirst()), host))
                } else {
                    exact[name] = host
                }
            }
            if host.isDefault { defaultHost = host }
        }
        self.exact = exact
        self.wildcards = wildcards.sorted { $0.0.utf8.count > $1.0.utf8.count }
        self.defaultHost = defaultHost
    }

    /// `authority` is the raw Host header (or :authority): the port is ignored and the
    /// comparison is case-insensitive (RFC 9110 §4.2.3), a trailing dot is dropped.
    func host(for authority: String?) -> VirtualHost? {
        guard let authority, let name = Self.hostName(of: authority) else { return self.defaultHost }
        if let host = self.exact[name] { return host }
        for (suffix, host) in self.wildcards where name.utf8.count > suffix.utf8.count && name.utf8.reversed().starts(with: suffix.utf8.reversed()) {
            return host
        }
        return self.defaultHost
    }

    /// "Example.COM:8080" → "example.com", "[::1]:8080" → "[::1]". Nil for an empty name.
    /// Works on bytes: this runs for every request.
    static func hostName(of authority: String) -> String? {
        let utf8 = authority.utf8
        var end = utf8.endIndex
        if utf8.first == UInt8(ascii: "[") {
            guard let close = utf8.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            end = utf8.index(after: close)
        } else if let colon = utf8.lastIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        var name = utf8[..<end]
        if name.last == UInt8(ascii: ".") { name = name.dropLast() }
        guard !name.isEmpty else { return nil }
        // Most clients send lowercase names: skip the copy lowercasing would make.
        if !name.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
            return end == utf8.endIndex && name.count == utf8.count ? authority : String(Substring(name))
        }
        return String(Substring(name)).lowercased()
    }
}

/// A connection's host lookups. A client sends the same `Host` (or `:authority`) with each
/// request on a connection, so the answer for the last one is kept: a repeat costs one string
/// comparison instead of the parsing, lowercasing and hashing of `HostTable.host(for:)`. A
/// connection belongs to one generation, so its table never changes under the memo.
final class HostLookup {
    let table: HostTable
    /// The last authority looked up and its host; compared in place, not copied out first.
    private var lastAuthority: String?
    private var lastHost: VirtualHost?
    private var hasLast = false

    init(_ table: HostTable) {
        self.table = table
    }

    func host(for authority: String?) -> VirtualHost? {
        if self.hasLast && self.lastAuthority == authority { return self.lastHost }
        let host = self.table.host(for: authority)
        self.lastAuthority = authority
        self.lastHost = host
        self.hasLast = true
        return host
    }
}
