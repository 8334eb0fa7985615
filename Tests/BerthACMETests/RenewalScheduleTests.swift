@testable import BerthACME
import Foundation
import Testing

/// The renewal rules, fed events and asked for actions at chosen times: no clock, no CA.
@Suite struct RenewalScheduleTests {
    let day: TimeInterval = 86400
    let issued = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func withoutACertificateOrderAtOnce() {
        #expect(RenewalSchedule().nextAction(at: issued) == .order)
    }

    @Test func renewsAtTwoThirdsOfTheLifetime() {
        var schedule = RenewalSchedule()
        schedule.installed(notBefore: issued, notAfter: issued + 90 * day, at: issued)
        #expect(schedule.renewalTime == issued + 60 * day)
        #expect(schedule.nextAction(at: issued + day) == .wait(until: issued + 60 * day))
        #expect(schedule.nextAction(at: issued + 60 * day) == .order)
        // A short-lived certificate (six days) is renewed after four.
        schedule.installed(notBefore: issued, notAfter: issued + 6 * day, at: issued)
        #expect(schedule.nextAction(at: issued) == .wait(until: issued + 4 * day))
    }

    @Test func failuresBackOffExponentiallyUpToTheCap() {
        var schedule = RenewalSchedule()
        var now = issued
        var waits: [TimeInterval] = []
        for _ in 0..<12 {
            #expect(schedule.nextAction(at: now) == .order)
            schedule.orderFailed(at: now)
            guard case .wait(let until) = schedule.nextAction(at: now) else {
                Issue.record("expected a wait after a failure")
                return
            }
            waits.append(until.timeIntervalSince(now))
            now = until
        }
        let cap: TimeInterval = 6 * 3600
        let expectedStart: [TimeInterval] = [60, 120, 240, 480, 960, 1920]
        #expect(Array(waits.prefix(6)) == expectedStart)
        #expect(waits.max() == cap)
        #expect(Array(waits.suffix(3)) == [cap, cap, cap])
    }

    @Test func aFailedRenewalKeepsTheOldCertificateAndRetries() {
        var schedule = RenewalSchedule()
        schedule.installed(notBefore: issued, notAfter: issued + 90 * day, at: issued)
        let due = issued + 60 * day
        schedule.orderFailed(at: due)
        #expect(schedule.lifetime == issued...(issued + 90 * day))
        #expect(schedule.nextAction(at: due) == .wait(until: due + 60))
        #expect(schedule.nextAction(at: due + 60) == .order)
        // Success resets the back-off.
        schedule.installed(notBefore: due, notAfter: due + 90 * day, at: due + 60)
        #expect(schedule.failuresInARow == 0)
        #expect(schedule.nextAction(at: due + 120) == .wait(until: due + 60 * day))
    }

    /// RFC 9773 §4.2: a window earlier than two thirds wins; the moment inside it is random.
    @Test func renewalInformationCanOnlyBringRenewalForward() {
        var schedule = RenewalSchedule(renewalInfoSupported: true)
        schedule.installed(notBefore: issued, notAfter: issued + 90 * day, at: issued)
        #expect(schedule.nextAction(at: issued) == .checkRenewalInfo)
        let early = RenewalInfo(windowStart: issued + 10 * day, windowEnd: issued + 12 * day)
        schedule.received(early, randomFraction: 0.5, at: issued)
        #expect(schedule.renewalTime == issued + 11 * day)
        // Asked again after the default interval, six hours.
        #expect(schedule.nextAction(at: issued) == .wait(until: issued + 6 * 3600))
        #expect(schedule.nextAction(at: issued + 6 * 3600) == .checkRenewalInfo)
        let late = RenewalInfo(windowStart: issued + 70 * day, windowEnd: issued + 80 * day, retryAfter: .seconds(3600))
        schedule.received(late, randomFraction: 0, at: issued + 6 * 3600)
        #expect(schedule.renewalTime == issued + 60 * day)
        #expect(schedule.nextRenewalInfoCheck == issued + 7 * 3600)
    }

    @Test func aWindowInThePastMeansRenewNow() {
        var schedule = RenewalSchedule(renewalInfoSupported: true)
        schedule.installed(notBefore: issued, notAfter: issued + 90 * day, at: issued)
        let now = issued + 20 * day
        schedule.received(RenewalInfo(windowStart: issued + day, windowEnd: issued + 2 * day), randomFraction: 0.3, at: now)
        #expect(schedule.nextAction(at: now) == .order)
    }

    @Test func failedRenewalInfoFallsBackToTwoThirds() {
        var schedule = RenewalSchedule(renewalInfoSupported: true)
        schedule.installed(notBefore: issued, notAfter: issued + 90 * day, at: issued)
        schedule.renewalInfoFailed(at: issued)
        #expect(schedule.renewalTime == issued + 60 * day)
        #expect(schedule.nextAction(at: issued) == .wait(until: issued + 6 * 3600))
    }
}
