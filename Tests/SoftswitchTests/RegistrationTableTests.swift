import Softswitch
import Testing
import VOSModel

/// The registrar's table: the newest live binding is the call target, expiry drops bindings,
/// and keep-alives go only to NATed bindings, at most a batch per turn, once per period.
struct RegistrationTableTests {
    static func binding(_ user: String, contact: String, at time: Int64, expires: Int64 = 3_600_000, nat: Bool = true) throws -> RegistrationBinding {
        RegistrationBinding(gateway: "phones-\(user)", username: user, contact: contact, receivedIP: try IPAddress(parsing: "203.0.113.5"),
                            receivedPort: 40000, transport: "udp", registeredAt: time, expiresAt: time + expires,
                            callID: "c", cseq: 1, userAgent: nil, behindNAT: nat)
    }

    @Test func newestLiveBindingIsTheTarget() throws {
        var table = RegistrationTable()
        _ = table.save(try Self.binding("alice", contact: "sip:alice@10.0.0.2", at: 0), keepAlivePeriod: nil)
        _ = table.save(try Self.binding("alice", contact: "sip:alice@10.0.0.3", at: 10, expires: 100), keepAlivePeriod: nil)
        #expect(table.target(for: "alice", now: 50)?.contact == "sip:alice@10.0.0.3")
        // The newer one expired: the older one is reached.
        #expect(table.target(for: "alice", now: 200)?.contact == "sip:alice@10.0.0.2")
        #expect(table.expire(now: 200) == [.removed(username: "alice", contact: "sip:alice@10.0.0.3")])
        #expect(table.count == 1)
        #expect(table.target(for: "bob", now: 0) == nil)
    }

    @Test func contactsPerUserAreBounded() throws {
        var table = RegistrationTable()
        for index in 0..<RegistrationTable.contactsPerUser {
            #expect(table.save(try Self.binding("alice", contact: "sip:alice@10.0.0.\(index)", at: 0), keepAlivePeriod: nil) != nil)
        }
        #expect(table.save(try Self.binding("alice", contact: "sip:alice@10.0.1.1", at: 0), keepAlivePeriod: nil) == nil)
        // Refreshing one already there is always allowed.
        #expect(table.save(try Self.binding("alice", contact: "sip:alice@10.0.0.0", at: 5), keepAlivePeriod: nil) != nil)
    }

    @Test func keepAlivesGoToNATedBindingsInBatchesOncePerPeriod() throws {
        var table = RegistrationTable()
        for index in 0..<5 {
            _ = table.save(try Self.binding("u\(index)", contact: "sip:u@10.0.0.\(index)", at: 0), keepAlivePeriod: 30_000)
        }
        _ = table.save(try Self.binding("open", contact: "sip:open@203.0.113.5:40000", at: 0, nat: false), keepAlivePeriod: 30_000)
        #expect(table.dueKeepAlives(now: 29_999, period: 30_000, limit: 10).isEmpty)
        #expect(table.dueKeepAlives(now: 30_000, period: 30_000, limit: 3).map(\.username) == ["u0", "u1", "u2"])
        #expect(table.dueKeepAlives(now: 30_500, period: 30_000, limit: 3).map(\.username) == ["u3", "u4"])
        #expect(table.dueKeepAlives(now: 31_000, period: 30_000, limit: 3).isEmpty)
        // A removed binding gets no more.
        _ = table.remove(username: "u0", contact: "sip:u@10.0.0.0")
        #expect(table.dueKeepAlives(now: 60_000, period: 30_000, limit: 10).map(\.username) == ["u1", "u2"])
    }

    @Test func bindingsKeptFromBeforeARestartGetAKeepAliveAtOnce() throws {
        let table = RegistrationTable(bindings: [try Self.binding("alice", contact: "sip:alice@10.0.0.2", at: 0),
                                                 try Self.binding("gone", contact: "sip:gone@10.0.0.3", at: 0, expires: 10)], now: 1000)
        var restarted = table
        #expect(restarted.count == 1)
        #expect(restarted.dueKeepAlives(now: 1000, period: 30_000, limit: 10).map(\.username) == ["alice"])
    }
}
