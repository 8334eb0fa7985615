import BerthConfig
import Testing

@Suite("Listener settings")
struct ListenerConfigTests {
    @Test func unsentBytesDefaultsToSixteenKiBAndCanBeSetOrTurnedOff() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen:
              - port: 8080
              - { port: 8081, unsent_bytes: 64KiB }
              - { port: 8082, unsent_bytes: off }
            hosts:
              a.test: { default: true, static: public }
            """)
        #expect(config.listeners.map(\.unsentBytes) == [16 * 1024, 64 * 1024, nil])
    }

    @Test func aBadUnsentSizeIsNamedWhereItIs() throws {
        let site = try TemporarySite()
        try site.directories("public")
        do {
            _ = try site.load("""
                listen:
                  - { port: 8080, unsent_bytes: lots }
                hosts:
                  a.test: { default: true, static: public }
                """)
            Issue.record("a bad size was accepted")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.message) == ["expected a size like 16KiB, or off, found 'lots'"])
            #expect(errors.errors.first?.location == site.location(2, 33))
        }
    }
}
