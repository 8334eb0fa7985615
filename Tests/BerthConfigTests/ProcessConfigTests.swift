import BerthConfig
import Testing

/// `user:`, `group:`, `pid_file:` and `admin:`: what the master process needs.
@Suite struct ProcessConfigTests {
    @Test func defaults() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 8080 }]
            hosts:
              localhost: { default: true, static: public }
            """)
        #expect(config.runAs == nil)
        #expect(config.admin == nil)
        #expect(config.pidFile == .nextToConfig)
        #expect(config.pidFilePath == site.path + "/berth.pid")
    }

    @Test func accountPidFileAndAdmin() throws {
        let site = try TemporarySite()
        try site.directories("public", "run")
        let config = try site.load("""
            listen: [{ address: 127.0.0.1, port: 8080 }]
            user: nobody
            group: nogroup
            pid_file: run/berth.pid
            admin: { address: "::1", port: 9090 }
            hosts:
              localhost: { default: true, static: public }
            """)
        #expect(config.runAs == RunAsConfig(user: "nobody", uid: 65534, group: "nogroup", gid: 65534, location: site.location(2, 7)))
        #expect(config.pidFile == .file(site.path + "/run/berth.pid"))
        #expect(config.admin == AdminConfig(address: "::1", port: 9090, location: site.location(5, 8)))
        #expect(config.admin?.endpointDescription == "[::1]:9090")
    }

    @Test func userAloneTakesItsPrimaryGroupAndIdsWork() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 8080 }]
            user: 65534
            pid_file: off
            admin: { port: 0 }
            hosts:
              localhost: { default: true, static: public }
            """)
        #expect(config.runAs?.user == "nobody")
        #expect(config.runAs?.uid == 65534)
        #expect(config.runAs?.gid == 65534)
        #expect(config.pidFilePath == nil)
        #expect(config.admin?.address == "127.0.0.1")
        #expect(config.admin?.port == 0)
    }

    @Test func adminClashesWithAWildcardListener() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let errors = try site.errors("""
            listen: [{ port: 8080 }]
            admin: { port: 8080 }
            hosts:
              localhost: { default: true, static: public }
            """)
        #expect(errors == ["port clash: admin endpoint 127.0.0.1:8080 overlaps the listener at SITE/berth.yaml:1:10 (0.0.0.0:8080); pick another port"])
    }
}
