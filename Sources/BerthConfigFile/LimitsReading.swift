internal import Yams
import BerthConfig

extension ConfigReader {
    static let limitKeys = [
        "header_bytes", "header_count", "uri_bytes", "body_bytes",
        "header_timeout", "body_timeout", "idle_timeout", "max_connections",
    ]

    func readLimits(_ node: Node) -> Limits {
        var limits = Limits()
        guard let fields = fields(of: node, expected: "a mapping of limits", context: "in 'limits'",
                                  allowed: ConfigReader.limitKeys)
        else { return limits }
        for entry in fields.entries {
            let value = entry.value
            switch entry.key {
            case "header_bytes": limits.headerBytes = size(value, minimum: 1) ?? limits.headerBytes
            case "uri_bytes": limits.uriBytes = size(value, minimum: 1) ?? limits.uriBytes
            case "body_bytes": limits.bodyBytes = size(value, minimum: 0) ?? limits.bodyBytes
            case "header_count":
                limits.headerCount = integer(value, in: 1...Int.max) ?? limits.headerCount
            case "max_connections":
                limits.maxConnections = integer(value, in: 1...Int.max) ?? limits.maxConnections
            case "header_timeout": limits.headerTimeout = duration(value) ?? limits.headerTimeout
            case "body_timeout": limits.bodyTimeout = duration(value) ?? limits.bodyTimeout
            case "idle_timeout": limits.idleTimeout = duration(value) ?? limits.idleTimeout
            default: break
            }
        }
        return limits
    }
}
