import SIPCore
import SIPStack
import Softswitch
import VOSModel

/// RFC 4028 session timers, one per leg (`SessionTimerNegotiation` decides, this runs them):
/// 422 and 400 on the customer's INVITE, the offer to vendors and a retry after their 422,
/// refreshes vos sends (UPDATE where the peer allows it, else re-INVITE with the SDP it last
/// got), refreshes vos expects, and SessionTimeout when a refresh fails or never comes.
extension B2BUA {
    /// The customer's INVITE: its timer, or the response that refuses it (400 or 422).
    func customerSessionTimer(_ request: SIPMessage, gateway: MappingGateway) -> Result<LegSessionTimer?, SessionTimerRefusal> {
        guard gateway.usesSessionTimer else { return .success(nil) }
        if request.hasHeader("Session-Expires") && request.sessionExpires == nil {
            return .failure(SessionTimerRefusal(status: 400, reason: "Malformed Session-Expires", headers: []))
        }
        if request.hasHeader("Min-SE") && request.minSE == nil {
            return .failure(SessionTimerRefusal(status: 400, reason: "Malformed Min-SE", headers: []))
        }
        let expires = request.sessionExpires
        let settings = sessionTimerSettings
        switch SessionTimerNegotiation.answer(
            requested: expires.map { Int($0.seconds) }, refresher: expires?.parameters["refresher"],
            peerMinimum: request.minSE, supportsTimer: request.supported.contains("timer") || request.require.contains("timer"),
            settings: settings) {
        case .none: return .success(nil)
        case let .accepted(timer): return .success(timer)
        case let .tooSmall(minimum):
            return .failure(SessionTimerRefusal(status: 422, reason: "Session Interval Too Small", headers: [("Min-SE", String(minimum))]))
        }
    }

    /// Headers offering a timer to a vendor.
    func offerSessionTimer(_ invite: inout SIPMessage, expires: Int) {
        invite.appendHeader("Supported", "timer")
        invite.appendHeader("Session-Expires", String(expires))
        invite.appendHeader("Min-SE", String(sessionTimerSettings.minimum))
    }

    /// The vendor answered 422: the same INVITE again with the Session-Expires it asks for, as a
    /// new transaction of the same attempt (RFC 4028 §7.4). False when the 422 cannot be met.
    func retryAfterSessionIntervalTooSmall(_ session: CallSession, candidate: RouteCandidate, vendorKey: String, _ response: SIPMessage) -> Bool {
        guard let attempt = session.attempt, attempt.candidate == candidate, attempt.sessionTimerRetries < 2,
              let offered = attempt.offeredSessionExpires, var vendor = session.vendor,
              let expires = SessionTimerNegotiation.retry(after: response.minSE, offered: offered),
              let sequence = (try? attempt.request.cseq().sequence).map({ $0 + 1 }) else { return false }
        // The same request (every header kept: 100rel, identity, the operator's own), as a new
        // transaction with the interval and the minimum the vendor asked for.
        var retry = attempt.request
        retry.setHeader("Via", newVia(for: vendor).description)
        retry.setHeader("CSeq", "\(sequence) INVITE")
        retry.setHeader("Session-Expires", String(expires))
        retry.setHeader("Min-SE", String(expires))
        vendor.localSequence = sequence
        session.vendor = vendor
        loop.cancel(attempt.timer)
        session.attempt = CallSession.Attempt(candidate: candidate, request: retry, offeredSessionExpires: expires,
                                              sessionTimerRetries: attempt.sessionTimerRetries + 1)
        sendAttemptInvite(session, candidate: candidate, vendorKey: vendorKey, to: vendor.peer)
        logger.info("vendor \(candidate.gateway.name) asked for Session-Expires >= \(expires) (422); retrying", metadata: session.logMetadata)
        return true
    }

    /// Once connected: both legs' timers, or the no-timer limit when neither leg has one.
    func startSessionTimers(_ session: CallSession, vendorAnswer response: SIPMessage, candidate: RouteCandidate) {
        guard var connected = session.connected else { return }
        if let timer = session.customerSessionTimer { connected.customerTimer = CallSession.LegTimer(negotiated: timer) }
        if candidate.gateway.usesSessionTimer, let expires = response.sessionExpires,
           let timer = SessionTimerNegotiation.accepted(responseExpires: Int(expires.seconds), refresher: expires.parameters["refresher"]) {
            connected.vendorTimer = CallSession.LegTimer(negotiated: timer)
        }
        let settings = sessionTimerSettings
        if connected.customerTimer == nil && connected.vendorTimer == nil && settings.noTimerLimit > 0 {
            connected.noTimerLimit = loop.schedule(after: .seconds(settings.noTimerLimit)) { [unowned self] in
                self.logger.info("no session timer on either leg; SS_SIP_NO_TIMER_REINVITE_INTERVAL reached", metadata: session.logMetadata)
                self.hangUpBoth(session, reason: .sessionTimeout)
            }
        }
        session.connected = connected
        arm(session, .customer)
        arm(session, .vendor)
    }

    /// Our Session-Expires for `side` in a response vos sends on that leg, if it has a timer.
    func sessionExpiresHeader(_ session: CallSession, _ side: Side) -> String? {
        guard let leg = side == .customer ? session.connected?.customerTimer : session.connected?.vendorTimer else { return nil }
        return "\(leg.negotiated.interval);refresher=\(leg.negotiated.refresherParameter(weAreUAC: false))"
    }

    /// A re-INVITE or UPDATE from `side` refreshed its leg: start its interval again.
    func peerRefreshed(_ session: CallSession, _ side: Side) {
        arm(session, side)
    }

    /// (Re)starts `side`'s timer from now: the next refresh vos sends, or the expiry it watches.
    private func arm(_ session: CallSession, _ side: Side) {
        guard var connected = session.connected, var leg = side == .customer ? connected.customerTimer : connected.vendorTimer else { return }
        loop.cancel(leg.timer)
        let settings = sessionTimerSettings
        switch leg.negotiated.refresher {
        case .vos:
            leg.timer = loop.schedule(after: .seconds(leg.negotiated.refreshAfter(settings))) { [unowned self] in
                self.sendRefresh(session, side)
            }
        case .peer:
            leg.timer = loop.schedule(after: .seconds(leg.negotiated.expiryAfter(settings))) { [unowned self] in
                self.logger.info("the \(side == .customer ? "customer" : "vendor") stopped refreshing the session; releasing (SessionTimeout)", metadata: session.logMetadata)
                self.hangUpBoth(session, reason: .sessionTimeout)
            }
        }
        if side == .customer { connected.customerTimer = leg } else { connected.vendorTimer = leg }
        session.connected = connected
    }

    /// vos's refresh on `side`: UPDATE without SDP where the peer allows it, else a re-INVITE
    /// repeating the SDP it last got. A failure or no answer ends the call (SessionTimeout).
    private func sendRefresh(_ session: CallSession, _ side: Side) {
        guard let connected = session.connected, let leg = side == .customer ? connected.customerTimer : connected.vendorTimer,
              var target = side == .customer ? Optional(session.customer) : session.vendor else { return }
        let method = (side == .customer ? connected.customerAllowsUpdate : connected.vendorAllowsUpdate) ? "UPDATE" : "INVITE"
        var refresh = target.request(method, via: newVia(for: target), contact: contact(for: target))
        if side == .customer { session.customer = target } else { session.vendor = target }
        refresh.appendHeader("Supported", "timer")
        refresh.appendHeader("Session-Expires", "\(leg.negotiated.interval);refresher=\(leg.negotiated.refresherParameter(weAreUAC: true))")
        let sdp = side == .customer ? connected.sdpToCustomer : connected.sdpToVendor
        if method == "INVITE" && !sdp.isEmpty { refresh.setBody(sdp, contentType: "application/sdp") } else {
            refresh.appendHeader("Content-Length", "0")
        }
        setOfferPending(session, to: side, true)
        layer.send(refresh, to: target.peer) { [unowned self] event in
            guard event.isFinal else { return }
            self.setOfferPending(session, to: side, false)
            switch event {
            case .provisional:
                break
            case let .final(response) where response.statusCode == 491:
                // Glare (RFC 3261 §14.1): try again after 2.1-4 s on a dialog whose Call-ID is ours
                // (the vendor leg), 0-2 s on the customer's.
                let wait = side == .vendor ? Int.random(in: 2100...4000) : Int.random(in: 0...2000)
                session.connected?.glareRetry = self.loop.schedule(after: .milliseconds(wait)) { [unowned self] in
                    self.sendRefresh(session, side)
                }
            case let .final(response):
                guard let status = response.statusCode, (200..<300).contains(status) else {
                    self.logger.info("session refresh (\(method)) answered \(response.statusCode ?? 0); releasing (SessionTimeout)", metadata: session.logMetadata)
                    return self.hangUpBoth(session, reason: .sessionTimeout)
                }
                if method == "INVITE" {
                    let ack = target.request("ACK", sequence: (try? response.cseq().sequence) ?? 0, via: self.newVia(for: target), contact: nil)
                    self.layer.sendStateless(self.withContentLength(ack), to: target.peer)
                }
                self.adopt(response, on: side, session)
                self.arm(session, side)
            case .timeout:
                self.logger.info("session refresh (\(method)) unanswered; releasing (SessionTimeout)", metadata: session.logMetadata)
                self.hangUpBoth(session, reason: .sessionTimeout)
            }
        }
    }

    /// The peer's answer to our refresh may change the interval or take over refreshing.
    private func adopt(_ response: SIPMessage, on side: Side, _ session: CallSession) {
        guard let expires = response.sessionExpires, var connected = session.connected,
              let timer = SessionTimerNegotiation.accepted(responseExpires: Int(expires.seconds), refresher: expires.parameters["refresher"])
        else { return }
        if side == .customer { connected.customerTimer?.negotiated = timer } else { connected.vendorTimer?.negotiated = timer }
        session.connected = connected
    }
}

/// A customer INVITE refused for its session timer headers.
struct SessionTimerRefusal: Error {
    let status: Int
    let reason: String
    let headers: [(String, String)]
}

extension B2BUA {
    /// Marks an INVITE or UPDATE of vos's as pending (or done) on `side`'s leg.
    func setOfferPending(_ session: CallSession, to side: Side, _ pending: Bool) {
        if side == .customer { session.connected?.offerPendingToCustomer = pending } else { session.connected?.offerPendingToVendor = pending }
    }

    /// RFC 3261 §14.2 / RFC 3311: a re-INVITE or UPDATE from `side` while one of vos's is pending on that leg.
    func isGlare(_ session: CallSession, from side: Side) -> Bool {
        guard let connected = session.connected else { return false }
        return side == .customer ? connected.offerPendingToCustomer : connected.offerPendingToVendor
    }
}
