import Softswitch
import VOSModel

/// The dynamic number blacklist on the call path (issue 14, docs/SUBSCRIBERS-AND-FRAUD.md): each
/// call counted at admission (central and mapping-gateway rules) and on each routing gateway it is
/// about to try (that gateway's rules), refused with 403 Blacklisted while an entry blocks its
/// caller or callee, and accounted for at its end (unanswered, short, concurrency). Counting is
/// `DynamicBlacklistTracker`'s, on this thread, with no store access; only a new entry leaves the
/// loop, to the journal's thread. This file must not decide anything else about a call.
///
/// Entries the operator removes (`vosctl blacklist remove`) come back as a configuration change:
/// on each reload the journal reads what is stored after every write queued before, and an entry
/// held here that is gone from it was removed, unless its own write was queued after that read.
struct DynamicBlacklistState {
    var tracker = DynamicBlacklistTracker()
    var journal: (any DynamicBlacklistJournal)?
    /// What each live call counted, by session id: at admission, and on the vendor it is trying.
    var admissionTickets: [UInt64: DynamicBlacklistTracker.Ticket] = [:]
    var attemptTickets: [UInt64: (gateway: String, ticket: DynamicBlacklistTracker.Ticket)] = [:]
    /// Journal operations queued so far, and the operation that wrote each entry made here.
    var journalSequence: UInt64 = 0
    var writtenAt: [DynamicBlacklistEntry.Key: UInt64] = [:]
    /// Calls refused and vendors skipped because an entry blocked a number, since start (alarms).
    var hits = 0
}

extension B2BUA {
    /// Where new entries are stored (set by the controller before the loop runs; nil in tests
    /// that need no store, where entries live in memory only).
    public var dynamicBlacklistJournal: (any DynamicBlacklistJournal)? {
        get { dynamicBlacklist.journal }
        set { dynamicBlacklist.journal = newValue }
    }

    /// Entries read from the store at start: they block again until they expire.
    public func restoreDynamicBlacklist(_ entries: [DynamicBlacklistEntry]) {
        dynamicBlacklist.tracker.restore(entries, now: loop.wallMilliseconds)
    }

    /// Calls refused and vendors skipped by the dynamic blacklist since the B2BUA started: what
    /// blacklist-hits alarm rules count (read on the loop).
    public var dynamicBlacklistHits: Int { dynamicBlacklist.hits }

    /// The entries blocking numbers now.
    public var dynamicBlacklistEntries: [DynamicBlacklistEntry] {
        dynamicBlacklist.tracker.activeEntries(now: loop.wallMilliseconds)
    }

    /// A new configuration: new rules, and entries the operator removed are dropped.
    func reloadDynamicBlacklist(_ fresh: ControllerSnapshot) {
        dynamicBlacklist.tracker.configure(fresh.dynamicBlacklistRules)
        guard let journal = dynamicBlacklist.journal else { return }
        dynamicBlacklist.journalSequence += 1
        let readAt = dynamicBlacklist.journalSequence
        journal.storedEntries { [loop] stored in
            guard let stored else { return }
            loop.execute { [unowned self] in self.dropRemovedEntries(stored: stored, readAt: readAt) }
        }
    }

    private func dropRemovedEntries(stored: [DynamicBlacklistEntry], readAt: UInt64) {
        let storedKeys = Set(stored.map(\.key))
        let now = loop.wallMilliseconds
        for entry in dynamicBlacklist.tracker.heldEntries where !storedKeys.contains(entry.key) {
            // Written after the read (or still queued): the store could not have it yet.
            if let written = dynamicBlacklist.writtenAt[entry.key], written > readAt { continue }
            dynamicBlacklist.tracker.removeEntry(entry.key)
            dynamicBlacklist.writtenAt[entry.key] = nil
            if entry.isActive(at: now) {
                logger.notice("dynamic blacklist: \(entry.target.rawValue) \(entry.number) \(Self.scopeText(entry.gateway)) was removed from the store; its calls are admitted again")
            }
        }
        // Entries written before the read are in the store now; only later ones need their mark.
        dynamicBlacklist.writtenAt = dynamicBlacklist.writtenAt.filter { $0.value > readAt }
    }

    /// Admission: after the static checks, before credit. A refused call is not counted.
    func dynamicBlacklistRefusal(_ session: CallSession) -> Admission.Refusal? {
        let start = dynamicBlacklist.tracker.callStarted(
            at: .admission(mappingGateway: session.mappingGateway.name),
            caller: session.callerOut, callee: session.calleeNumber, now: loop.wallMilliseconds)
        storeNewEntries(start.newEntries, callID: session.callID)
        if let entry = start.blockingEntry {
            dynamicBlacklist.hits += 1
            logger.info("\(entry.target.rawValue) \(entry.number) is on the dynamic blacklist \(Self.scopeText(entry.gateway)) (\(entry.reason)); 403", metadata: session.logMetadata)
            return Admission.Refusal(reason: .blacklisted, code: 403)
        }
        if !start.ticket.isEmpty { dynamicBlacklist.admissionTickets[session.id] = start.ticket }
        return nil
    }

    /// A vendor attempt is about to start on `candidate`: when the number is blocked there (or
    /// this call takes it over the gateway's rule) the gateway is skipped and the next one tried,
    /// and this returns true. A followed redirect is the same attempt and is not asked again.
    /// A call to a registered phone has no routing gateway (its candidate is named after the
    /// phone's mapping gateway): it was judged at admission only.
    func dynamicBlacklistSkipsAttempt(_ session: CallSession, _ candidate: RouteCandidate) -> Bool {
        if session.registeredTarget != nil { return false }
        let gateway = candidate.gateway.name
        // The previous vendor's attempt ended without an answer: its count ends here.
        if let previous = dynamicBlacklist.attemptTickets.removeValue(forKey: session.id) {
            storeNewEntries(dynamicBlacklist.tracker.callEnded(previous.ticket, answered: false, durationMilliseconds: 0,
                                                               now: loop.wallMilliseconds), callID: session.callID)
        }
        let start = dynamicBlacklist.tracker.callStarted(at: .attempt(routingGateway: gateway), caller: session.callerOut,
                                                         callee: session.calleeNumber, now: loop.wallMilliseconds)
        storeNewEntries(start.newEntries, callID: session.callID)
        guard let entry = start.blockingEntry else {
            if !start.ticket.isEmpty { dynamicBlacklist.attemptTickets[session.id] = (gateway, start.ticket) }
            return false
        }
        dynamicBlacklist.hits += 1
        logger.info("\(entry.target.rawValue) \(entry.number) is on the dynamic blacklist \(Self.scopeText(gateway)) (\(entry.reason)); gateway skipped", metadata: session.logMetadata)
        session.plan.skip(candidate, reason: .dynamicBlacklist)
        tryNextVendor(session)
        return true
    }

    /// The call ended (its CDR is being written): unanswered and short calls are counted and its
    /// concurrency released, on every rule that counted it.
    func dynamicBlacklistCallEnded(_ session: CallSession, endMonotonic: UInt64) {
        let admission = dynamicBlacklist.admissionTickets.removeValue(forKey: session.id)
        let attempt = dynamicBlacklist.attemptTickets.removeValue(forKey: session.id)
        guard admission != nil || attempt != nil else { return }
        let now = loop.wallMilliseconds
        var duration: Int64 = 0
        if let answered = session.answerMonotonic, endMonotonic > answered {
            duration = Int64((endMonotonic - answered) / 1_000_000)
        }
        let answered = session.answerMonotonic != nil
        var made: [DynamicBlacklistEntry] = []
        if let admission {
            made += dynamicBlacklist.tracker.callEnded(admission, answered: answered, durationMilliseconds: duration, now: now)
        }
        if let attempt {
            let answeredThere = answered && session.lastCandidate?.gateway.name == attempt.gateway
            made += dynamicBlacklist.tracker.callEnded(attempt.ticket, answered: answeredThere,
                                                       durationMilliseconds: answeredThere ? duration : 0, now: now)
        }
        storeNewEntries(made, callID: session.callID)
    }

    /// Logs each new entry and queues it for the store (the only write this feature makes).
    private func storeNewEntries(_ entries: [DynamicBlacklistEntry], callID: String) {
        guard !entries.isEmpty else { return }
        for entry in entries {
            logger.notice("dynamic blacklist: \(entry.target.rawValue) \(entry.number) blocked \(Self.scopeText(entry.gateway)) for \((entry.expires - entry.created) / 1000) s by rule \(entry.rule): \(entry.reason) (call \(callID))")
        }
        guard let journal = dynamicBlacklist.journal else { return }
        dynamicBlacklist.journalSequence += 1
        for entry in entries { dynamicBlacklist.writtenAt[entry.key] = dynamicBlacklist.journalSequence }
        journal.record(entries)
    }

    static func scopeText(_ gateway: String?) -> String {
        gateway.map { "on gateway \($0)" } ?? "on every gateway (central)"
    }
}
