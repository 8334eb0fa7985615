import Foundation
import SwiftASN1
import X509

/// ACME Renewal Information (RFC 9773): the window in which the CA would like a certificate
/// renewed, earlier than usual when it plans to revoke it.
public struct RenewalInfo: Sendable, Equatable {
    public var windowStart: Date
    public var windowEnd: Date
    /// §4.2: a page explaining an unusual window, worth a log line.
    public var explanationURL: String?
    /// §4.3: when to ask again; nil leaves it to the schedule's default.
    public var retryAfter: Duration?

    public init(windowStart: Date, windowEnd: Date, explanationURL: String? = nil, retryAfter: Duration? = nil) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.explanationURL = explanationURL
        self.retryAfter = retryAfter
    }

    struct Body: Decodable, Sendable {
        struct Window: Decodable, Sendable {
            var start: String
            var end: String
        }
        var suggestedWindow: Window
        var explanationURL: String?
    }

    init(body: Body, retryAfter: Duration?) throws {
        guard let start = RFC3339.parse(body.suggestedWindow.start),
              let end = RFC3339.parse(body.suggestedWindow.end)
        else {
            throw ACMEError.unexpectedResponse(status: 200, url: "renewalInfo",
                                               detail: "suggestedWindow is not two RFC 3339 timestamps")
        }
        // §4.2: a window whose end is not after its start is invalid and must be ignored.
        guard end > start else {
            throw ACMEError.unexpectedResponse(status: 200, url: "renewalInfo", detail: "suggestedWindow ends before it starts")
        }
        self.init(windowStart: start, windowEnd: end, explanationURL: body.explanationURL, retryAfter: retryAfter)
    }

    /// §4.1: the certificate's ARI identifier, base64url(AKI keyIdentifier) "." base64url(the
    /// serial number's DER INTEGER content, with its leading zero when the high bit is set).
    /// nil for a certificate without an Authority Key Identifier.
    public static func certificateID(of certificate: Certificate) -> String? {
        guard let aki = try? certificate.extensions.authorityKeyIdentifier, let keyID = aki.keyIdentifier
        else { return nil }
        // swift-certificates keeps the serial's magnitude; SwiftASN1 encodes it as a positive
        // INTEGER, whose content octets are what §4.1 asks for.
        var serializer = DER.Serializer()
        guard (try? serializer.serialize(certificate.serialNumber.bytes)) != nil,
              let node = try? DER.parse(serializer.serializedBytes),
              case .primitive(let content) = node.content
        else { return nil }
        return Base64URL.encode(keyID) + "." + Base64URL.encode(content)
    }
}

/// Timestamps of RFC 3339 §5.6, with or without fractional seconds.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
