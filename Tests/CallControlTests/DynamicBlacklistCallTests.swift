@testable import CallControl
import SIPCore
import SIPStack
import Testing
import VOSModel

/// The dynamic number blacklist on the call path, in virtual time: what the caller is answered,
/// the CDR's end reason, what the vendor sees, and the entries handed to the store.
@Suite struct DynamicBlacklistCallTests {
    static func rule(_ name: String = "burst", gateway: String? = nil, target: DynamicBlacklistRule.Target = .callee,
                     calls: Int = 0, unanswered: Int = 0, short: Int = 0, shortSeconds: Int = 10, block: Int = 10) -> DynamicBlacklistRule {
        DynamicBlacklistRule(name: name, gateway: gateway, target: target, windowSeconds: 60, maxCalls: calls,
                             maxUnanswered: unanswered, maxShortCalls: short, shortCallSeconds: shortSeconds, blockSeconds: block)
    }

    /// One call the vendor at `host` turns down with 486; returns what the customer was answered.
    /// (Earlier calls' final responses are retransmitted, never acknowledged: only this call's count.)
    func busyCall(_ lab: CallHarness, host: Int = 20) throws -> Int {
        _ = lab.drain()
        let callID = lab.customerInvite()
        func final(_ out: [(message: SIPMessage, to: SocketAddress)]) -> Int? {
            out.finalResponses.first { $0.to == CallHarness.customer && $0.message.callID == callID }?.message.statusCode
        }
        let out = lab.drain()
        if let status = final(out) { return status }
        let invite = try #require(out.requests("INVITE").first { $0.to == CallHarness.vendor(host) }?.message)
        lab.respond(to: invite, status: 486, reason: "Busy Here", from: CallHarness.vendor(host))
        return try #require(final(lab.drain()))
    }

    @Test func theCallOverTheThresholdGets403BlacklistedUntilTheEntryExpires() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let journal = RecordingBlacklistJournal()
        lab.b2bua.dynamicBlacklistJournal = journal
        lab.setBlacklistRules([Self.rule(calls: 2, block: 10)])
        #expect(try busyCall(lab) == 486)
        #expect(try busyCall(lab) == 486)

        lab.customerInvite()
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty, "the vendor never sees the call")
        #expect(out.finalResponses.first { $0.to == CallHarness.customer }?.message.statusCode == 403)
        let record = try #require(lab.ledger.records.last)
        #expect(record.endReason == .blacklisted && record.sipCode == 403)
        let entry = try #require(journal.recorded.first)
        #expect(journal.recorded.count == 1, "one write: the entry, not the calls")
        #expect(entry.number == "441234567" && entry.target == .callee && entry.gateway == nil && entry.rule == "burst")
        #expect(entry.reason == "3 calls in 60 s > 2")
        #expect(entry.expires - entry.created == 10_000)
        #expect(lab.b2bua.dynamicBlacklistEntries == [entry])

        lab.advance(seconds: 9.9)
        #expect(try busyCall(lab) == 403, "still blocked just before the expiry")
        lab.advance(seconds: 0.2)
        #expect(try busyCall(lab) == 486, "after the expiry the call reaches the vendor again")
        #expect(lab.b2bua.dynamicBlacklistEntries.isEmpty)
        #expect(journal.recorded.count == 1)
    }

    @Test func unansweredCallsAreCountedWhenTheyEnd() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.setBlacklistRules([Self.rule("ring", target: .caller, unanswered: 1, block: 60)])
        #expect(try busyCall(lab) == 486)
        #expect(lab.b2bua.dynamicBlacklistEntries.isEmpty)
        #expect(try busyCall(lab) == 486, "the second unanswered call goes through; its end crosses the threshold")
        let entry = try #require(lab.b2bua.dynamicBlacklistEntries.first)
        #expect(entry.number == "1000" && entry.target == .caller && entry.reason == "2 unanswered calls in 60 s > 1")
        #expect(try busyCall(lab) == 403)
        #expect(lab.ledger.records.last?.endReason == .blacklisted)
    }

    @Test func shortCallsAreCountedByTheirAnsweredDuration() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.setBlacklistRules([Self.rule("probe", short: 1, shortSeconds: 5, block: 60)])
        for (index, seconds) in [6.0, 2.0, 3.0].enumerated() {
            let call = try lab.connect()
            lab.advance(seconds: seconds)
            lab.customerRequest("BYE", callID: call.callID, toTag: call.customerTag, branch: "z9hG4bK-bye\(index)")
            _ = lab.drain()
        }
        #expect(lab.ledger.records.map(\.durationSeconds) == [6, 2, 3])
        let entry = try #require(lab.b2bua.dynamicBlacklistEntries.first, "the 6 s call is not short; the 2 s and 3 s ones are")
        #expect(entry.reason == "2 calls shorter than 5 s in 60 s > 1")
        #expect(try busyCall(lab) == 403)
    }

    @Test func aRoutingGatewayEntrySkipsThatVendorOnly() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20, priority: 1), CallHarness.vendor("de", host: 21, priority: 2)])
        lab.setBlacklistRules([Self.rule("uk-only", gateway: "uk", calls: 1, block: 60)])
        #expect(try busyCall(lab, host: 20) == 486, "the first call goes to uk, priority 1")

        lab.customerInvite()
        let invites = lab.drain().requests("INVITE")
        #expect(invites.map(\.to) == [CallHarness.vendor(21)], "uk is passed over for this callee; de gets the call")
        let invite = try #require(invites.first?.message)
        lab.respond(to: invite, status: 486, reason: "Busy Here", from: CallHarness.vendor(21))
        let record = try #require(lab.ledger.records.last)
        #expect(record.attempts.map(\.gateway) == ["de"], "a skipped gateway is no attempt")
        let entry = try #require(lab.b2bua.dynamicBlacklistEntries.first)
        #expect(entry.gateway == "uk" && entry.reason == "2 calls in 60 s > 1")
    }

    @Test func theOnlyVendorBlockedForTheNumberAnswers403Blacklisted() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.setBlacklistRules([Self.rule("uk-only", gateway: "uk", calls: 1, block: 60)])
        #expect(try busyCall(lab) == 486)
        lab.customerInvite()
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty)
        #expect(out.finalResponses.first { $0.to == CallHarness.customer }?.message.statusCode == 403)
        let record = try #require(lab.ledger.records.last)
        #expect(record.endReason == .blacklisted && record.sipCode == 403 && record.attempts.isEmpty)
    }

    @Test func anEntryRemovedFromTheStoreIsDroppedOnReloadButNotOneWrittenAfterTheRead() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let journal = RecordingBlacklistJournal()
        lab.b2bua.dynamicBlacklistJournal = journal
        let rules = [Self.rule(calls: 1, block: 600)]
        lab.setBlacklistRules(rules)
        journal.answerReads()
        #expect(try busyCall(lab) == 486)

        // A reload reads the store; the entry is made after that read was queued.
        lab.setBlacklistRules(rules)
        #expect(try busyCall(lab) == 403)
        #expect(journal.stored.count == 1)
        journal.answerReads()
        lab.loop.run()
        #expect(try busyCall(lab) == 403, "the read could not see an entry written after it: the entry stays")

        // The operator removes it (vosctl deletes the row and bumps the generation).
        journal.stored = [:]
        lab.setBlacklistRules(rules)
        journal.answerReads()
        lab.loop.run()
        #expect(lab.b2bua.dynamicBlacklistEntries.isEmpty)
        #expect(try busyCall(lab) == 486, "the next call reaches the vendor")
    }

    @Test func entriesRestoredAtStartBlock() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let now = lab.loop.wallMilliseconds
        lab.b2bua.restoreDynamicBlacklist([
            DynamicBlacklistEntry(number: "1000", target: .caller, gateway: "cust", rule: "gone", reason: "5 calls in 60 s > 4",
                                  created: now - 1000, expires: now + 5000),
        ])
        #expect(try busyCall(lab) == 403, "a mapping gateway's entry refuses its calls at admission, with no rule configured")
        lab.advance(seconds: 5)
        #expect(try busyCall(lab) == 486)
    }
}

extension CallHarness {
    /// A new configuration with `rules`, as a reload after `vosctl blacklist rule ...` gives it.
    func setBlacklistRules(_ rules: [DynamicBlacklistRule]) {
        let current = b2bua.snapshot
        b2bua.reload(ControllerSnapshot(parameters: current.parameters, mapping: Array(current.mappingGateways.values),
                                        routing: current.routingGateways, dynamicBlacklistRules: rules))
        loop.run()
    }
}

/// The store as the controller's journal thread keeps it: a read sees the writes queued before
/// it, and answers when the test says.
final class RecordingBlacklistJournal: DynamicBlacklistJournal, @unchecked Sendable {
    private(set) var recorded: [DynamicBlacklistEntry] = []
    var stored: [DynamicBlacklistEntry.Key: DynamicBlacklistEntry] = [:]
    private var reads: [(entries: [DynamicBlacklistEntry], completion: @Sendable ([DynamicBlacklistEntry]?) -> Void)] = []

    func record(_ entries: [DynamicBlacklistEntry]) {
        recorded += entries
        for entry in entries { stored[entry.key] = entry }
    }

    func storedEntries(completion: @escaping @Sendable ([DynamicBlacklistEntry]?) -> Void) {
        reads.append((Array(stored.values), completion))
    }

    /// Answers the reads queued so far, each with what was stored when it was queued.
    func answerReads() {
        let pending = reads
        reads = []
        for read in pending { read.completion(read.entries) }
    }
}
