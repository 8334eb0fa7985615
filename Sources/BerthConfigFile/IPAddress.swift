#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// IP address literals, checked and put in canonical form by the C library so that `::1` and
/// `0:0:0:0:0:0:0:1` are recognised as the same address.
enum IPAddress {
    /// The canonical text of an IPv4 or IPv6 literal (IPv6 optionally in brackets), or nil.
    static func canonical(_ text: String) -> String? {
        var literal = Substring(text)
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
        if let v4 = convert(String(literal), family: AF_INET) { return v4 }
        return convert(String(literal), family: AF_INET6)
    }

    static func isIPv4(_ text: String) -> Bool { convert(text, family: AF_INET) != nil }

    private static func convert(_ text: String, family: Int32) -> String? {
        var storage = in6_addr()
        guard inet_pton(family, text, &storage) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &storage, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
