import Softswitch
import Testing
import VOSModel

@Suite struct SessionTimerNegotiationTests {
    let settings = SessionTimerSettings(sessionExpires: 600, minimum: 90, segment: 2, earlyHangup: 0, noTimerLimit: 7200)

    @Test func aCustomerAskingForATimerGetsOneAndVosRefreshesUnlessItChoseItself() {
        #expect(SessionTimerNegotiation.answer(requested: 1800, refresher: nil, peerMinimum: nil, supportsTimer: true, settings: settings)
                == .accepted(LegSessionTimer(interval: 600, refresher: .vos)), "vos shortens to its TTL")
        #expect(SessionTimerNegotiation.answer(requested: 300, refresher: "uac", peerMinimum: 120, supportsTimer: true, settings: settings)
                == .accepted(LegSessionTimer(interval: 300, refresher: .peer)))
        #expect(SessionTimerNegotiation.answer(requested: nil, refresher: nil, peerMinimum: nil, supportsTimer: true, settings: settings)
                == .accepted(LegSessionTimer(interval: 600, refresher: .vos)))
        #expect(SessionTimerNegotiation.answer(requested: nil, refresher: nil, peerMinimum: nil, supportsTimer: false, settings: settings) == .none)
    }

    @Test func belowTheMinimumIs422WithOurMinSE() {
        #expect(SessionTimerNegotiation.answer(requested: 60, refresher: nil, peerMinimum: nil, supportsTimer: true, settings: settings)
                == .tooSmall(minimum: 90))
        #expect(SessionTimerNegotiation.answer(requested: 90, refresher: nil, peerMinimum: nil, supportsTimer: true, settings: settings)
                == .accepted(LegSessionTimer(interval: 90, refresher: .vos)))
    }

    @Test func theVendorsAnswerDecidesWhoRefreshes() {
        #expect(SessionTimerNegotiation.accepted(responseExpires: 600, refresher: "uas") == LegSessionTimer(interval: 600, refresher: .peer))
        #expect(SessionTimerNegotiation.accepted(responseExpires: 600, refresher: "uac") == LegSessionTimer(interval: 600, refresher: .vos))
        #expect(SessionTimerNegotiation.accepted(responseExpires: 900, refresher: nil) == LegSessionTimer(interval: 900, refresher: .vos))
        #expect(SessionTimerNegotiation.accepted(responseExpires: nil, refresher: nil) == nil)
    }

    @Test func a422IsRetriedWithTheLargerMinSEOnly() {
        #expect(SessionTimerNegotiation.retry(after: 1800, offered: 600) == 1800)
        #expect(SessionTimerNegotiation.retry(after: 300, offered: 600) == nil)
        #expect(SessionTimerNegotiation.retry(after: nil, offered: 600) == nil)
    }

    @Test func refreshAndExpiryTimes() {
        let timer = LegSessionTimer(interval: 600, refresher: .vos)
        #expect(timer.refreshAfter(settings) == 300)
        #expect(timer.expiryAfter(settings) == 568, "600 - min(32, 200)")
        #expect(LegSessionTimer(interval: 90, refresher: .peer).expiryAfter(settings) == 60, "90 - min(32, 30)")
        var early = settings
        early.earlyHangup = 100
        #expect(timer.expiryAfter(early) == 500)
        #expect(timer.refresherParameter(weAreUAC: true) == "uac")
        #expect(timer.refresherParameter(weAreUAC: false) == "uas")
        #expect(LegSessionTimer(interval: 600, refresher: .peer).refresherParameter(weAreUAC: false) == "uac")
    }
}
