import SIPStack
import Softswitch
import VOSModel

/// Money during a call (docs/BILLING.md): reserve at setup, follow the deadline the ledger
/// grants while connected, checkpoint connected time for crash recovery, settle at the end.
extension B2BUA {
    /// Reserves credit for a customer with an account, off the loop: the call waits in its own
    /// state (routing, no attempt yet) and goes on in `billingAuthorized`. Its billing key is set
    /// at once, so a CANCEL meanwhile settles whatever the reservation turns out to be.
    func authorizeBilling(_ session: CallSession) {
        guard let account = session.account else { return tryNextVendor(session) }
        let key = "\(session.callID)#\(session.setupTime)#\(session.id)"
        session.billingKey = key
        let request = CallAuthorizationRequest(
            key: key, callID: session.callID, account: account, caller: session.callerReceived,
            callee: session.ratedNumber ?? session.calleeNumber, mappingGateway: session.mappingGateway.name, vendor: nil,
            now: session.setupTime)
        ledger.authorize(request, policy: reservationPolicy, clock: snapshot.routing.clock) { [loop] authorization in
            loop.execute { [self] in self.billingAuthorized(session, authorization) }
        }
    }

    /// The ledger's verdict: route the call, or refuse it with VOS3000's end reason.
    private func billingAuthorized(_ session: CallSession, _ authorization: CallAuthorization) {
        // Ended meanwhile (CANCEL): its settlement, queued after this authorization, covers it.
        guard session.isRouting, !session.cancelRequested else { return }
        switch authorization {
        case .granted:
            tryNextVendor(session)
        case let .refused(refusal):
            session.billingKey = nil
            var headers: [(String, String)] = []
            if refusal.sipCode == 503 { headers.append(("Retry-After", "5")) }
            session.customerInvite.respond(status: refusal.sipCode, toTag: session.customer.localTag, headers: headers)
            finishCall(session, reason: refusal.endReason, sipCode: refusal.sipCode, hangup: .system)
        }
    }

    func billingAnswered(_ session: CallSession, candidate: RouteCandidate) {
        guard let key = session.billingKey, let answer = session.answerTime else { return }
        // A ported number is rated on its LRN on both sides (what the planner priced the vendor at).
        let rated = session.routingNumber != nil ? session.ratedNumber ?? candidate.calleeOut : candidate.calleeOut
        let vendor = VendorLeg(gateway: candidate.gateway.name, clearingAccount: candidate.gateway.clearingAccount,
                               callee: rated)
        // The answer is stored off the loop; its deadline comes back to the loop.
        ledger.answered(key, at: answer, vendor: vendor, policy: reservationPolicy) { [loop] deadline in
            loop.execute { [self] in self.follow(deadline, session) }
        }
    }

    /// Schedules the release (final deadline) or the next extension request.
    private func follow(_ deadline: CallDeadline?, _ session: CallSession) {
        loop.cancel(session.connected?.creditTimer)
        guard let deadline, session.isConfirmed else { return }
        let now = loop.wallMilliseconds
        if deadline.isFinal, let release = deadline.releaseAt {
            session.connected?.creditTimer = loop.schedule(after: .milliseconds(max(0, release - now))) { [unowned self] in
                self.logger.info("credit used up, releasing (BalanceExhausted)", metadata: session.logMetadata)
                self.hangUpBoth(session, reason: .balanceExhausted)
            }
        } else if let extendAt = deadline.extendAt {
            session.connected?.creditTimer = loop.schedule(after: .milliseconds(max(0, extendAt - now))) { [unowned self] in
                guard let key = session.billingKey, session.isConfirmed else { return }
                self.follow(self.ledger.extend(key, now: loop.wallMilliseconds, policy: self.reservationPolicy), session)
            }
        }
    }

    /// Every few seconds: record how long each billed call has been connected (what a crash
    /// recovery may charge), and refresh vendor balances for the clearing-customer check.
    public func startCheckpoints(every seconds: Int = 5) {
        loop.schedule(after: Duration.seconds(seconds)) { [weak self] in
            guard let self else { return }
            var connected: [(key: String, seconds: Int)] = []
            for entry in self.dialogs.values where entry.side == .customer {
                let session = entry.session
                guard session.isConfirmed, let key = session.billingKey, let answered = session.answerMonotonic else { continue }
                connected.append((key, Int((self.loop.now - answered) / 1_000_000_000)))
            }
            self.ledger.checkpoint(connected, at: loop.wallMilliseconds)
            // Packages' rent and minimum consumption: once a minute is soon enough after a month turns.
            if self.loop.now >= self.nextMonthlyCharges {
                self.nextMonthlyCharges = self.loop.now + 60_000_000_000
                self.ledger.applyMonthlyCharges(at: loop.wallMilliseconds)
            }
            self.refreshVendorCredit()
            self.startCheckpoints(every: seconds)
        }
    }

    func refreshVendorCredit() {
        guard parameters.bool(.verifyClearingCustomer) else {
            vendorCredit = VendorCreditCheck(isEnabled: false, remainMoneyLimit: .zero, balances: [:])
            return
        }
        vendorCredit = VendorCreditCheck(parameters: parameters, accounts: ledger.vendorBalances())
    }
}
