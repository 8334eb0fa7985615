import BerthConfig
import BerthStatic
import Testing

@testable import BerthServer

@Suite("Which answers are compressed, and how: the rules without I/O")
struct CompressionPolicyTests {
    let settings = CompressionSettings(CompressionConfig())

    private func decide(
        status: Int = 200, type: String? = "text/html; charset=utf-8", extra: [(String, String)] = [], length: Int64? = 10_000,
        streamed: Bool = false, accept: String? = "gzip, deflate, br", settings: CompressionSettings? = nil
    ) -> CompressionPolicy.Decision {
        let fields = (type.map { [("Content-Type", $0)] } ?? []) + extra
        return CompressionPolicy.decide(status: status, fields: fields, length: length, streamed: streamed, acceptEncoding: accept,
                                        settings: settings ?? self.settings)
    }

    @Test func negotiatesInTheServersOrder() {
        #expect(decide() == .compress(.brotli))
        #expect(decide(accept: "gzip") == .compress(.gzip))
        #expect(decide(accept: "br;q=0, gzip") == .compress(.gzip))
        #expect(decide(accept: "gzip;q=1, br;q=0.9") == .compress(.gzip))
        #expect(decide(accept: "*") == .compress(.brotli))
        let gzipFirst = CompressionSettings(CompressionConfig(encodings: [.gzip, .br]))
        #expect(decide(accept: "br, gzip", settings: gzipFirst) == .compress(.gzip))
        let brotliOnly = CompressionSettings(CompressionConfig(encodings: [.br]))
        #expect(decide(accept: "gzip", settings: brotliOnly) == .identity)
        // A candidate the client takes uncompressed still varies.
        #expect(decide(accept: nil) == .identity)
        #expect(decide(accept: "") == .identity)
        #expect(decide(accept: "identity") == .identity)
        #expect(decide(accept: "identity;q=0") == .identity)
        #expect(decide(accept: "zstd, deflate") == .identity)
    }

    @Test func leavesWhatMustNotOrNeedNotBeCompressed() {
        #expect(decide(status: 206) == .leave)
        #expect(decide(status: 204) == .leave)
        #expect(decide(status: 304) == .leave)
        #expect(decide(status: 404) == .compress(.brotli))
        #expect(decide(extra: [("Content-Encoding", "gzip")]) == .leave)
        #expect(decide(extra: [("Content-Encoding", "identity")]) == .compress(.brotli))
        #expect(decide(extra: [("Cache-Control", "public, No-Transform")]) == .leave)
        #expect(decide(extra: [("Cache-Control", "max-age=60")]) == .compress(.brotli))
        #expect(decide(type: nil) == .leave)
        #expect(decide(type: "image/png") == .leave)
        #expect(decide(type: "font/woff2") == .leave)
        #expect(decide(length: 255) == .leave)
        #expect(decide(length: 256) == .compress(.brotli))
        #expect(decide(length: CompressionSettings.maxWholeBodyBytes + 1) == .leave)
        // Streams are compressed as they go, of any length.
        #expect(decide(length: nil, streamed: true) == .compress(.brotli))
    }

    @Test func aPathsConfiguredNoTransformTurnsItOff() {
        let location = SourceLocation(file: "berth.yaml", line: 1, column: 1)
        func route(_ headers: [HeaderField], _ compression: CompressionConfig? = CompressionConfig()) -> PathRouteConfig {
            PathRouteConfig(prefix: "/", handler: .redirect(RedirectConfig(target: "/x")), headers: headers, compression: compression,
                            location: location)
        }
        #expect(CompressionSettings(route: route([])) != nil)
        #expect(CompressionSettings(route: route([], nil)) == nil)
        #expect(CompressionSettings(route: route([HeaderField(name: "Cache-Control", value: "public, no-transform")])) == nil)
        #expect(CompressionSettings(route: route([HeaderField(name: "Cache-Control", value: "max-age=60")])) != nil)
    }

    @Test func listElementsMatchWhole() {
        #expect("public, No-Transform".listContains("no-transform"))
        #expect(!"no-transformx, max-age=1".listContains("no-transform"))
        #expect("Accept-Language,\tAccept-Encoding ".listContains("accept-encoding"))
        #expect(" * ".listContains("*") && !"".listContains("*"))
        #expect(!"accept".listContains("accept-encoding") && !"x-accept-encoding".listContains("accept-encoding"))
    }

    @Test func textLikeMediaTypes() {
        let types = MediaTypeList(CompressionConfig.defaultTypes)
        for type in ["text/html", "TEXT/CSS; charset=utf-8", "text/javascript;charset=utf-8", "application/json",
                     "application/ld+json", "application/manifest+json", "application/xml", "application/rss+xml",
                     "image/svg+xml", "application/wasm", "font/ttf", "font/otf", "application/vnd.ms-fontobject"] {
            #expect(types.contains(type), "\(type)")
        }
        for type in ["image/png", "image/jpeg", "font/woff", "font/woff2", "application/octet-stream", "application/zip",
                     "video/mp4", "application/jsonx", "textual/plain", "", "text", "application/+jsonx"] {
            #expect(!types.contains(type), "\(type)")
        }
        let custom = MediaTypeList(["application/*+yaml", "image/bmp"])
        #expect(custom.contains("application/vnd.x+yaml") && custom.contains("image/BMP") && !custom.contains("text/plain"))
    }
}
