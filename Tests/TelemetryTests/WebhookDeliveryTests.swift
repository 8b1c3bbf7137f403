import Foundation
import Testing
import VOSModel
import VOSTestSupport
@testable import Telemetry

/// Webhook delivery against a real HTTP receiver on loopback (`HTTPReceiver`): bodies, order,
/// retries, a receiver down then up, final 4xx answers, time-outs, the bounded queue.
@Suite(.serialized) struct WebhookDeliveryTests {
    private func target(_ receiver: HTTPReceiver, name: String = "noc", events: [WebhookTarget.Events] = [.alarms, .calls],
                        retries: Int = 3, interval: Int = 1, timeout: Int = 2, path: String = "/hook") -> WebhookTarget {
        WebhookTarget(name: name, url: "http://127.0.0.1:\(receiver.port)\(path)", events: events, retries: retries,
                      retryIntervalSeconds: interval, timeoutSeconds: timeout)
    }

    private func post(_ delivery: WebhookDelivery, _ events: WebhookTarget.Events, _ text: String) {
        delivery.post(events) { Array(text.utf8) }
    }

    private func statistics(_ delivery: WebhookDelivery, _ name: String = "noc") throws -> WebhookStatistics {
        try #require(try delivery.statistics()[name])
    }

    @Test func eventsArePostedAsJSONInOrderOverOneConnection() throws {
        let receiver = try HTTPReceiver()
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        delivery.configure([target(receiver)])
        for index in 0..<20 { post(delivery, .calls, "{\"n\":\(index)}") }
        let requests = receiver.waitFor(20)
        #expect(requests.count == 20)
        #expect(requests.map(\.body) == (0..<20).map { "{\"n\":\($0)}" }, "one at a time, in the order posted")
        let first = try #require(requests.first)
        #expect(first.method == "POST" && first.path == "/hook")
        #expect(first.headers["content-type"] == "application/json")
        #expect(first.headers["host"] == "127.0.0.1:\(receiver.port)")
        #expect(first.json?["n"] as? Int == 0)
        #expect(eventually { (try? statistics(delivery).delivered) == 20 })
        let counters = try statistics(delivery)
        #expect(counters.attempts == 20 && counters.failed == 0 && counters.queued == 0)
    }

    @Test func onlyTargetsTakingAnEventKindGetIt() throws {
        let alarms = try HTTPReceiver(), calls = try HTTPReceiver()
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        #expect(!delivery.wants(.alarms) && !delivery.wants(.calls))
        delivery.configure([target(alarms, name: "a", events: [.alarms]), target(calls, name: "c", events: [.calls])])
        #expect(delivery.wants(.alarms) && delivery.wants(.calls))
        post(delivery, .alarms, "{\"event\":\"alarm.raised\"}")
        post(delivery, .calls, "{\"event\":\"call.start\"}")
        #expect(alarms.waitFor(1).map(\.body) == ["{\"event\":\"alarm.raised\"}"])
        #expect(calls.waitFor(1).map(\.body) == ["{\"event\":\"call.start\"}"])
        usleep(300_000)
        #expect(alarms.requests.count == 1 && calls.requests.count == 1)
        delivery.configure([target(alarms, name: "a", events: [.alarms])])
        #expect(!delivery.wants(.calls), "no target takes calls any more: the SIP thread skips them")
    }

    @Test func aFailedAttemptIsRetriedAfterTheInterval() throws {
        let receiver = try HTTPReceiver()
        receiver.answer(500, 503)
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        delivery.configure([target(receiver, retries: 3, interval: 1)])
        let started = Date()
        post(delivery, .alarms, "{\"event\":\"alarm.raised\"}")
        let requests = receiver.waitFor(3, seconds: 10)
        #expect(requests.count == 3 && Set(requests.map(\.body)).count == 1, "the same event three times")
        #expect(Date().timeIntervalSince(started) >= 1.8, "two retry intervals of 1 s")
        #expect(eventually { (try? statistics(delivery).delivered) == 1 })
        #expect(try statistics(delivery).attempts == 3)
    }

    @Test func aReceiverDownThenUpGetsTheEventFromARetry() throws {
        let receiver = try HTTPReceiver()
        receiver.stop()
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        delivery.configure([target(receiver, retries: 5, interval: 1)])
        post(delivery, .alarms, "{\"event\":\"alarm.raised\",\"rule\":\"low\"}")
        post(delivery, .alarms, "{\"event\":\"alarm.cleared\",\"rule\":\"low\"}")
        #expect(eventually(seconds: 5) { (try? statistics(delivery).attempts) ?? 0 >= 2 }, "connection refused, retried")
        #expect(receiver.requests.isEmpty)
        try receiver.start()
        let requests = receiver.waitFor(2, seconds: 10)
        #expect(requests.compactMap { $0.json?["event"] as? String } == ["alarm.raised", "alarm.cleared"], "both, in order, once the receiver is up")
        #expect(eventually { (try? statistics(delivery).delivered) == 2 })
        #expect(try statistics(delivery).failed == 0)
    }

    @Test func retriesRunOutAndA4xxIsFinal() throws {
        let receiver = try HTTPReceiver()
        receiver.answer(400, 500, 500)
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        delivery.configure([target(receiver, retries: 1, interval: 1)])
        post(delivery, .alarms, "{\"n\":1}")
        post(delivery, .alarms, "{\"n\":2}")
        post(delivery, .alarms, "{\"n\":3}")
        let requests = receiver.waitFor(4, seconds: 10)
        // n=1: 400, not retried. n=2: 500, 500 (one retry), given up. n=3: 200.
        #expect(requests.map(\.body) == ["{\"n\":1}", "{\"n\":2}", "{\"n\":2}", "{\"n\":3}"])
        #expect(eventually { (try? statistics(delivery).delivered) == 1 })
        #expect(try statistics(delivery).failed == 2)
    }

    @Test func aSlowReceiverTimesOutAndTheAttemptIsRepeated() throws {
        let receiver = try HTTPReceiver()
        receiver.delayAnswers(2.5)
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        delivery.configure([target(receiver, retries: 2, interval: 1, timeout: 1)])
        post(delivery, .alarms, "{\"n\":1}")
        #expect(receiver.waitFor(2, seconds: 6).count >= 2, "timed out after 1 s, then tried again")
        receiver.delayAnswers(0)
        #expect(eventually(seconds: 10) { (try? statistics(delivery).delivered) == 1 })
    }

    @Test func aReceiverThatClosesEachConnectionStillGetsEveryEvent() throws {
        let receiver = try HTTPReceiver()
        receiver.keepAlive(false)
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        delivery.configure([target(receiver, retries: 0)])
        for index in 0..<10 { post(delivery, .calls, "{\"n\":\(index)}") }
        #expect(receiver.waitFor(10).count == 10)
        #expect(eventually { (try? statistics(delivery).delivered) == 10 })
        #expect(try statistics(delivery).failed == 0)
    }

    @Test func theQueueDropsTheOldestWhenTheTargetStaysDown() throws {
        let receiver = try HTTPReceiver()
        receiver.stop()
        let delivery = WebhookDelivery(queueLimit: 5)
        defer { delivery.shutdown(drainSeconds: 0) }
        delivery.configure([target(receiver, retries: 100, interval: 1)])
        for index in 0..<12 { post(delivery, .calls, "{\"n\":\(index)}") }
        // The first is being sent (retrying); of the 11 behind it 5 fit.
        #expect(eventually { (try? statistics(delivery).dropped) == 6 })
        #expect(try statistics(delivery).queued == 6)
        try receiver.start()
        let requests = receiver.waitFor(6, seconds: 10)
        #expect(requests.compactMap { $0.json?["n"] as? Int } == [0, 7, 8, 9, 10, 11])
    }

    @Test func anUnchangedTargetKeepsItsQueueAcrossAReconfiguration() throws {
        let receiver = try HTTPReceiver()
        let other = try HTTPReceiver()
        let delivery = WebhookDelivery()
        defer { delivery.shutdown(drainSeconds: 0) }
        let noc = target(receiver)
        delivery.configure([noc])
        post(delivery, .alarms, "{\"n\":1}")
        #expect(receiver.waitFor(1).count == 1)
        delivery.configure([noc, target(other, name: "second")])
        post(delivery, .alarms, "{\"n\":2}")
        #expect(receiver.waitFor(2).count == 2 && other.waitFor(1).count == 1)
        #expect(try statistics(delivery).delivered == 2, "the first target's counters were kept")
        delivery.configure([])
        #expect(try delivery.statistics().isEmpty)
    }
}
