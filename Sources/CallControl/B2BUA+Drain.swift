import SIPStack
import VOSModel

/// A graceful stop: new calls are turned away with 503 and Retry-After (so customers fail over to
/// another switch at once), calls in progress run on until they end or the drain time is up, and
/// what is left is then hung up with end reason ControllerRestart and CDRs written as usual.
extension B2BUA {
    /// Stops taking new calls. In-dialog requests, REGISTER and OPTIONS are still answered.
    public func beginDrain() {
        guard !draining else { return }
        draining = true
        logger.notice("draining: new calls are refused with 503 while \(activeCallCount) calls finish")
    }

    /// Calls with a customer leg that has not ended (routing or connected).
    public var activeCallCount: Int {
        var seen = Set<ObjectIdentifier>()
        for entry in dialogs.values where entry.side == .customer && !entry.session.isEnded {
            seen.insert(ObjectIdentifier(entry.session))
        }
        return seen.count
    }

    /// The drain time is over: connected calls get BYE on both legs, calls still being routed are
    /// refused toward the customer (and cancelled toward the vendor).
    public func hangUpAllCalls() {
        var seen = Set<ObjectIdentifier>()
        let sessions = dialogs.values.compactMap { entry -> CallSession? in
            guard entry.side == .customer, !entry.session.isEnded, seen.insert(ObjectIdentifier(entry.session)).inserted else { return nil }
            return entry.session
        }
        for session in sessions {
            logger.info("hung up: the drain time is over", metadata: session.logMetadata)
            if session.isConfirmed {
                hangUpBoth(session, reason: .controllerRestart)
            } else if session.isRouting {
                session.cancelRequested = true
                session.customerInvite.respond(status: 503, reason: "Service Unavailable", toTag: session.customer.localTag,
                                               headers: [("Retry-After", "5")])
                if session.attempt?.provisionalSeen == true { sendCancel(session) }
                finishCall(session, reason: .controllerRestart, sipCode: 503, hangup: .system)
            }
        }
        if !sessions.isEmpty { logger.notice("drain time over: \(sessions.count) calls hung up (ControllerRestart)") }
    }

    /// What a draining controller answers a new INVITE.
    func refuseWhileDraining(_ transaction: ServerTransaction) {
        transaction.respond(status: 503, reason: "Service Unavailable", headers: [("Retry-After", "30")])
    }
}
