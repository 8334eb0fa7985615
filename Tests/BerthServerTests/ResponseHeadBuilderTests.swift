import NIOCore
import NIOHTTP1
import Testing

@testable import BerthServer
@testable import BerthStatic

/// The one place a response head is assembled: configured headers and HSTS laid over a
/// handler's fields, and a hot file's prepared fields kept whenever none of them is replaced.
@Suite("Response heads with configured headers")
struct ResponseHeadBuilderTests {
    static let prepared = PreparedFields(
        PreparedFields.Profile(contentType: "text/html", cacheControl: "max-age=60", varyOnEncoding: false, fieldBlock: nil),
        contentLength: "5", entityTag: "\"t\"", lastModified: "Wed, 02 Dec 2026 13:39:40 GMT")

    static func hotFile() -> ResponseMessage {
        ResponseMessage(status: 200, fields: Self.prepared.fields, body: .bytes(ByteBuffer(string: "hello")), prepared: Self.prepared)
    }

    static func build(_ message: ResponseMessage, _ configured: [(String, String)], hsts: String? = nil) -> ResponseHead {
        var keepAlive = true
        return ResponseHeadBuilder.build(message, bodyLength: 5, overrides: ConfiguredHeaders(configured), hsts: hsts,
                                         version: .http1_1, keepAlive: &keepAlive)
    }

    static func names(_ head: ResponseHead) -> [String] { head.fields.map(\.0) }

    @Test func configuredHeadersFollowAHotFilesPreparedFields() throws {
        let head = Self.build(Self.hotFile(), [("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff")], hsts: "max-age=600")
        let prepared = try #require(head.prepared)
        #expect(prepared === Self.prepared)
        #expect(Array(head.fields.prefix(prepared.fields.count)).map(\.0) == prepared.fields.map(\.0))
        #expect(head.unpreparedFields.map(\.0) == ["X-Frame-Options", "X-Content-Type-Options", "Strict-Transport-Security"])
        #expect(head.unpreparedFields.map(\.1) == ["DENY", "nosniff", "max-age=600"])
    }

    @Test func aConfiguredHeaderReplacesTheHandlersOfAnyCase() {
        let head = Self.build(Self.hotFile(), [("cache-control", "no-store"), ("X-Site", "alpha")])
        #expect(head.prepared == nil)
        #expect(head.unpreparedFields.count == head.fields.count)
        #expect(head.fields.filter { $0.0.lowercased() == "cache-control" }.map(\.1) == ["no-store"])
        #expect(Self.names(head).suffix(2) == ["cache-control", "X-Site"])
        #expect(head.fields.count == Self.prepared.fields.count + 1)
    }

    @Test func hstsReplacesAnAppsOwn() {
        let app = ResponseMessage(status: 200, fields: [("strict-transport-security", "max-age=1"), ("Content-Length", "5")], body: .empty)
        let head = Self.build(app, [], hsts: "max-age=600")
        #expect(head.fields.map(\.0) == ["Content-Length", "Strict-Transport-Security"])
        #expect(head.fields.last?.1 == "max-age=600")
    }

    @Test func aNameConfiguredTwiceCountsOnceWithItsLastValue() {
        let configured = ConfiguredHeaders([("X-A", "1"), ("X-B", "2"), ("x-a", "3")])
        #expect(configured.fields.map(\.0) == ["X-B", "x-a"] && configured.fields.map(\.1) == ["2", "3"])
        #expect(configured.lowercasedNames == ["x-b", "x-a"])
    }

    @Test func withNothingConfiguredTheMessageGoesAsItIs() {
        let head = Self.build(Self.hotFile(), [])
        #expect(head.prepared === Self.prepared)
        #expect(head.unpreparedFields.isEmpty && head.fields.count == Self.prepared.fields.count)
    }
}
