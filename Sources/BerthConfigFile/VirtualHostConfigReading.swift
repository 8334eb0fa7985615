internal import Yams
import BerthConfig

extension ConfigReader {
    static let hostKeys = ["default", "aliases", "access_log", "tls", "headers", "errors", "compress", "paths"]
        + handlerKeys + staticOptionKeys

    func readHosts(_ node: Node) -> [VirtualHostConfig] {
        guard let entries = entries(of: node, expected: "a mapping of host names to hosts")
        else { return [] }
        if entries.isEmpty {
            error("expected at least one host, like 'localhost: { static: public }'", at: node)
        }
        // Names and aliases share one namespace: a request's host must pick exactly one site.
        var owners: [String: (host: String, location: SourceLocation)] = [:]
        func claim(_ name: String, by host: String, at node: Node) -> Bool {
            if let owner = owners[name] {
                let whose = owner.host == host ? "this host" : "host '\(owner.host)'"
                error("host name '\(name)' is already used by \(whose) at \(owner.location)", at: node)
                return false
            }
            owners[name] = (host, location(node))
            nameLocations[name] = location(node)
            return true
        }
        var hosts: [VirtualHostConfig] = []
        var firstDefault: (host: String, location: SourceLocation)?
        for entry in entries {
            var name: String?
            switch HostName.normalize(entry.key) {
            case .success(let normalized):
                if claim(normalized, by: entry.key, at: entry.keyNode) { name = normalized }
            case .failure(.invalid(let reason)):
                error("invalid host name '\(entry.key)': \(reason)", at: entry.keyNode)
            }
            guard let fields = fields(of: entry.value, expected: "a mapping with 'paths' or 'static'",
                                      context: "in host '\(entry.key)'", allowed: ConfigReader.hostKeys)
            else { continue }
            var aliases: [String] = []
            for alias in fields["aliases"].map(aliasNodes) ?? [] {
                guard let text = string(alias, expected: "a host name") else { continue }
                switch HostName.normalize(text) {
                case .success(let normalized):
                    if claim(normalized, by: entry.key, at: alias) { aliases.append(normalized) }
                case .failure(.invalid(let reason)):
                    error("invalid host name '\(text)': \(reason)", at: alias)
                }
            }
            let (host, valid) = readHost(fields, key: entry, name: name, aliases: aliases)
            if host.isDefault, let first = firstDefault, let node = fields["default"] {
                error("more than one default host: '\(first.host)' at \(first.location) is "
                      + "already marked 'default: true'", at: node)
            } else if host.isDefault {
                firstDefault = (entry.key, host.location)
            }
            if valid { hosts.append(host) }
        }
        if firstDefault == nil, !hosts.isEmpty {
            warning("no host is marked 'default: true'; requests for other host names get "
                    + "421 Misdirected Request", at: location(node))
        }
        return hosts
    }

    /// `aliases:` is a list; a single name is accepted as a list of one.
    private func aliasNodes(_ node: Node) -> [Node] {
        if case .sequence(let list) = node { return Array(list) }
        if case .mapping = node {
            error("expected a list of host names, found a mapping", at: node)
            return []
        }
        return [node]
    }

    private func readHost(_ fields: Fields, key: Entry, name: String?,
                          aliases: [String]) -> (host: VirtualHostConfig, valid: Bool) {
        var valid = name != nil
        let owner = "host '\(key.key)'"
        var host = VirtualHostConfig(name: name ?? "", aliases: aliases, routes: [],
                                     location: location(key.keyNode))
        if let node = fields["default"] {
            if let value = bool(node) { host.isDefault = value } else { valid = false }
        }
        if let node = fields["access_log"] {
            if let log = logDestination(node) { host.accessLog = log } else { valid = false }
        }
        if let node = fields["tls"] {
            if let managed = readManagedTLS(node) {
                if let managed { host.managedTLS = managed } else { valid = false }
            } else {
                hostsWithTLSKey += 1
                switch readTLS(node, host: key.key) {
                case .files(let tls)?: host.tls = tls
                case .managed(let managed)?: host.managedTLS = managed
                case nil: valid = false
                }
            }
        }
        let defaults = HostDefaults(
            headers: fields["headers"].map(readHeaders) ?? [],
            errorPages: fields["errors"].map(readErrorPages) ?? [:],
            staticOptions: readStaticOptions(fields),
            compression: fields["compress"].map(readCompression) ?? CompressionOptions())
        if let paths = fields.entry("paths") {
            for entry in fields.entries where ConfigReader.handlerKeys.contains(entry.key) {
                error("\(owner) has both 'paths' and '\(entry.key)'; move '\(entry.key)' under a "
                      + "path such as '/'", at: entry.keyNode)
            }
            host.routes = readPaths(paths.value, host: key.key, defaults: defaults)
        } else if let handler = readHandler(fields, owner: owner, options: defaults.staticOptions,
                                            alternatives: ["paths"] + ConfigReader.handlerKeys) {
            let handlerKey = fields.entries.first { ConfigReader.handlerKeys.contains($0.key) }!
            host.routes = [PathRouteConfig(prefix: "/", handler: handler, headers: defaults.headers,
                                           errorPages: defaults.errorPages,
                                           compression: defaults.compression.config,
                                           location: location(handlerKey.keyNode))]
        }
        return (host, valid)
    }

    private func readPaths(_ node: Node, host: String, defaults: HostDefaults) -> [PathRouteConfig] {
        guard let entries = entries(of: node, expected: "a mapping of path prefixes to handlers")
        else { return [] }
        if entries.isEmpty {
            error("expected at least one path, like '/: { static: public }'", at: node)
        }
        var routes: [PathRouteConfig] = []
        for entry in entries {
            let prefix = routePrefix(entry)
            let owner = "path '\(entry.key)'"
            let expected = "a mapping with 'static', 'redirect' or 'app'"
            guard let fields = fields(of: entry.value, expected: expected, context: "in \(owner)",
                                      allowed: ConfigReader.routeKeys)
            else { continue }
            let options = readStaticOptions(fields).inheriting(defaults.staticOptions)
            let headers = fields["headers"].map(readHeaders) ?? []
            let errorPages = fields["errors"].map(readErrorPages) ?? [:]
            let compression = (fields["compress"].map(readCompression) ?? CompressionOptions())
                .inheriting(defaults.compression)
            guard let handler = readHandler(fields, owner: owner, options: options), let prefix
            else { continue }
            if let first = routes.first(where: { $0.prefix == prefix }) {
                error("path '\(prefix)' is already routed by the path at \(first.location) in host "
                      + "'\(host)'", at: entry.keyNode)
                continue
            }
            routes.append(PathRouteConfig(
                prefix: prefix, handler: handler,
                headers: ConfigReader.mergeHeaders(defaults.headers, headers),
                errorPages: defaults.errorPages.merging(errorPages) { _, own in own },
                compression: compression.config,
                location: location(entry.keyNode)))
        }
        // Longest first, file order among equals, so that matching can take the first hit.
        return routes.enumerated().sorted { lhs, rhs in
            let l = lhs.element.prefix.utf8.count, r = rhs.element.prefix.utf8.count
            return l != r ? l > r : lhs.offset < rhs.offset
        }.map(\.element)
    }
}
