/// Host names as they may appear as keys under `hosts:` and in `aliases:`.
///
/// Matching against the Host header is exact and lowercase, so names are checked and
/// lowercased once here rather than on every request.
enum HostName {
    enum Problem: Error {
        case invalid(String)
    }

    /// The lowercased name, or the reason it cannot match any Host header.
    ///
    /// Accepted: DNS names (`shop.test`), a leading wildcard label (`*.shop.test`, any
    /// sub-domain but not `shop.test` itself), IPv4 literals, and IPv6 literals in brackets as
    /// they appear in a Host header (`[::1]`, put in canonical form).
    static func normalize(_ text: String) -> Result<String, Problem> {
        let name = text.lowercased()
        if name.hasPrefix("[") {
            guard name.hasSuffix("]"), name.contains(":"),
                  let address = IPAddress.canonical(name), address.contains(":")
            else { return .failure(.invalid("'\(text)' is not a valid IPv6 address in brackets")) }
            return .success("[\(address)]")
        }
        if name.contains(":") {
            if IPAddress.canonical(name) != nil {
                return .failure(.invalid("write IPv6 addresses in brackets, like '[\(name)]'"))
            }
            return .failure(.invalid("host names have no port; ports belong under 'listen:'"))
        }
        if name == "*" {
            return .failure(.invalid("mark a host 'default: true' to answer for every other name"))
        }
        if IPAddress.isIPv4(name) { return .success(name) }
        if name.hasSuffix(".") {
            return .failure(.invalid("remove the trailing '.'"))
        }
        if name.contains(where: { !$0.isASCII }) {
            return .failure(.invalid("use the ASCII (xn--) form of international names"))
        }
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" { labels.removeFirst() }
        let allowed = { (c: Character) in c.isLetter || c.isNumber || c == "-" || c == "." || c == "*" }
        if let bad = name.first(where: { !allowed($0) }) {
            return .failure(.invalid("'\(bad)' is not allowed; use letters, digits, '-' and '.'"))
        }
        if labels.contains(where: { $0.contains("*") }) {
            return .failure(.invalid("'*' may only be the whole first label, as in '*.example.test'"))
        }
        if labels.contains(where: \.isEmpty) {
            return .failure(.invalid("it has an empty label ('..' or a leading '.')"))
        }
        if labels.contains(where: { $0.hasPrefix("-") || $0.hasSuffix("-") }) {
            return .failure(.invalid("labels cannot start or end with '-'"))
        }
        if labels.contains(where: { $0.count > 63 }) || name.count > 253 {
            return .failure(.invalid("it is longer than DNS allows (63 per label, 253 in all)"))
        }
        return .success(name)
    }
}
