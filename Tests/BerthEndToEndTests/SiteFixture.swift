import Foundation

/// Two static sites plus a default host, the shape most end-to-end tests need.
enum SiteFixture {
    static let digits = String(repeating: "0123456789", count: 100)

    static let files: [String: String] = [
        "alpha/index.html": "<!DOCTYPE html><h1>Alpha</h1>",
        "alpha/css/style.css": "body { color: teal; }",
        "alpha/css/style.css.gz": "GZIP-VARIANT",
        "alpha/.env": "SECRET=1",
        "alpha/docs/guide/index.html": "<h1>Guide</h1>",
        "alpha/404.html": "<h1>Alpha has no such page</h1>",
        "alpha/digits.txt": digits,
        "alpha/files/a.txt": "a",
        "alpha/files/b & c.txt": "b",
        "beta/index.html": "<h1>Beta</h1>",
        "default/index.html": "<h1>Default host</h1>",
        "outside/secret.txt": "TOP SECRET",
    ]

    static func yaml(limits: String = "", extraHostKeys: String = "", listen: String = "  - { address: 127.0.0.1, port: 0 }", access: String = "access.log", format: String = "combined") -> String {
        """
        listen:
        \(listen)
        threads: 2
        logs: { error: stderr, access: \(access), format: \(format) }
        \(limits)
        hosts:
          alpha.test:
            aliases: [www.alpha.test]
            errors: { 404: alpha/404.html }
            headers: { X-Site: alpha }
            paths:
              /: { static: alpha }
              /files: { static: alpha/files, listing: true }
              /old: { redirect: { to: "https://alpha.test/new", status: 308, keep_path: true } }
          beta.test:
            static: beta
          "*.wild.test":
            static: beta
          default.test:
            default: true
            static: default
        \(extraHostKeys)
        """
    }

    /// Starts berth on the fixture; the symlink leaving alpha's root is made here because
    /// the file map only holds regular files.
    static func start(limits: String = "", access: String = "access.log", format: String = "combined") throws -> BerthProcess {
        try BerthProcess(yaml: yaml(limits: limits, access: access, format: format), files: files, prepare: { dir in
            try FileManager.default.createSymbolicLink(
                atPath: dir.appendingPathComponent("alpha/leak.txt").path, withDestinationPath: "../outside/secret.txt")
            try FileManager.default.createSymbolicLink(
                atPath: dir.appendingPathComponent("alpha/inside.txt").path, withDestinationPath: "digits.txt")
        })
    }
}
