import VOSModel

/// The registrar's bindings in memory (RFC 3261 §10.3): who is registered where until when, the
/// address a call to a user goes to, and which NATed bindings are due a keep-alive. Pure state of
/// the B2BUA's event-loop thread; times are wall-clock milliseconds, passed in. Persisting the
/// bindings is the caller's job.
public struct RegistrationTable: Sendable {
    /// Contacts one user may register at once; more are refused with 403 rather than grown.
    public static let contactsPerUser = 10

    private var byUser: [String: [RegistrationBinding]] = [:]
    /// NATed bindings in the order their keep-alives fall due. Every binding waits the same
    /// period, so appending keeps the queue sorted; removed and re-registered bindings are
    /// skipped lazily when they reach the front.
    private var keepAliveQueue: [(user: String, contact: String, due: Int64)] = []
    private var keepAliveHead = 0
    private var queued: Set<String> = []
    /// No binding expires before this: `expire` scans only once something has (it runs every
    /// keep-alive tick, on the SIP thread).
    private var earliestExpiry: Int64 = .max

    /// Bindings kept from before a restart; NATed ones get a keep-alive at once (their NAT may
    /// have forgotten them while vos was down).
    public init(bindings: [RegistrationBinding] = [], now: Int64 = 0) {
        for binding in bindings where binding.expiresAt > now {
            byUser[binding.username, default: []].append(binding)
            earliestExpiry = min(earliestExpiry, binding.expiresAt)
            if binding.behindNAT { enqueueKeepAlive(binding, due: now) }
        }
    }

    public var count: Int { byUser.values.reduce(0) { $0 + $1.count } }
    public var all: [RegistrationBinding] { byUser.values.flatMap { $0 }.sorted { ($0.username, $0.contact) < ($1.username, $1.contact) } }

    public func bindings(of username: String, now: Int64) -> [RegistrationBinding] {
        (byUser[username] ?? []).filter { $0.expiresAt > now }
    }

    /// Where a call to `username` goes: its most recent live binding.
    public func target(for username: String, now: Int64) -> RegistrationBinding? {
        byUser[username]?.lazy.filter { $0.expiresAt > now }.max { $0.registeredAt < $1.registeredAt }
    }

    public enum Change: Sendable, Equatable {
        case saved(RegistrationBinding)
        case removed(username: String, contact: String)
    }

    /// Adds or refreshes a binding. Returns nil when the user already has `contactsPerUser`
    /// other contacts.
    public mutating func save(_ binding: RegistrationBinding, keepAlivePeriod: Int64?) -> Change? {
        var list = byUser[binding.username] ?? []
        if let index = list.firstIndex(where: { $0.contact == binding.contact }) {
            list[index] = binding
        } else {
            guard list.count < Self.contactsPerUser else { return nil }
            list.append(binding)
        }
        byUser[binding.username] = list
        earliestExpiry = min(earliestExpiry, binding.expiresAt)
        if binding.behindNAT, let period = keepAlivePeriod { enqueueKeepAlive(binding, due: binding.registeredAt + period) }
        return .saved(binding)
    }

    public mutating func remove(username: String, contact: String) -> Change? {
        guard var list = byUser[username], let index = list.firstIndex(where: { $0.contact == contact }) else { return nil }
        list.remove(at: index)
        byUser[username] = list.isEmpty ? nil : list
        return .removed(username: username, contact: contact)
    }

    public mutating func removeAll(username: String) -> [Change] {
        let removed = byUser.removeValue(forKey: username) ?? []
        return removed.map { .removed(username: $0.username, contact: $0.contact) }
    }

    /// Drops bindings that expired by `now`; returns them.
    public mutating func expire(now: Int64) -> [Change] {
        guard earliestExpiry <= now else { return [] }
        var changes: [Change] = []
        var next = Int64.max
        for (user, list) in byUser {
            let live = list.filter { $0.expiresAt > now }
            for binding in live { next = min(next, binding.expiresAt) }
            guard live.count != list.count else { continue }
            for binding in list where binding.expiresAt <= now { changes.append(.removed(username: user, contact: binding.contact)) }
            byUser[user] = live.isEmpty ? nil : live
        }
        earliestExpiry = next
        return changes
    }

    /// Up to `limit` NATed bindings whose keep-alive is due at `now`; each is due again a
    /// `period` later (SS_SIP_NAT_KEEP_ALIVE_PERIOD, _SEND_ONE_TIME).
    public mutating func dueKeepAlives(now: Int64, period: Int64, limit: Int) -> [RegistrationBinding] {
        var due: [RegistrationBinding] = []
        var requeue: [RegistrationBinding] = []
        while keepAliveHead < keepAliveQueue.count, due.count < limit {
            let entry = keepAliveQueue[keepAliveHead]
            guard entry.due <= now else { break }
            keepAliveHead += 1
            queued.remove(Self.key(entry.user, entry.contact))
            guard let binding = byUser[entry.user]?.first(where: { $0.contact == entry.contact }),
                  binding.behindNAT, binding.expiresAt > now else { continue }
            due.append(binding)
            requeue.append(binding)
        }
        if keepAliveHead > 1024 && keepAliveHead * 2 > keepAliveQueue.count {
            keepAliveQueue.removeFirst(keepAliveHead)
            keepAliveHead = 0
        }
        for binding in requeue { enqueueKeepAlive(binding, due: now + period) }
        return due
    }

    private mutating func enqueueKeepAlive(_ binding: RegistrationBinding, due: Int64) {
        let key = Self.key(binding.username, binding.contact)
        guard queued.insert(key).inserted else { return }
        keepAliveQueue.append((binding.username, binding.contact, due))
    }

    private static func key(_ user: String, _ contact: String) -> String { user + "\u{0}" + contact }
}
