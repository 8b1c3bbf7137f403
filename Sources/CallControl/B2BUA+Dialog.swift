import SIPCore
import SIPStack
import VOSModel

/// Requests inside a call: CANCEL, BYE from either side, and everything relayed across
/// (re-INVITE, UPDATE, INFO) with SDP pointed at the relay.
extension B2BUA {
    func handleCancel(_ cancel: SIPMessage, transaction: ServerTransaction) {
        guard let invite = layer.inviteTransaction(cancelledBy: cancel, from: transaction.peer),
              let session = sessionsByInvite[ObjectIdentifier(invite)] else {
            transaction.respond(status: 481, reason: "Call/Transaction Does Not Exist")
            return
        }
        transaction.respond(status: 200, reason: "OK")
        guard session.isRouting else { return }
        customerGaveUp(session)
    }

    /// CANCEL (or an early BYE) from the customer before any vendor answered.
    private func customerGaveUp(_ session: CallSession) {
        session.cancelRequested = true
        session.customerInvite.respond(status: 487, reason: "Request Terminated", toTag: session.customer.localTag)
        if session.attempt?.provisionalSeen == true { sendCancel(session) }
        finishCall(session, reason: .callerCancel, sipCode: 487, hangup: .caller)
    }

    func handleInDialog(_ request: SIPMessage, transaction: ServerTransaction, session: CallSession, from side: Side) {
        guard let method = request.method else { return }
        switch method {
        case "BYE":
            transaction.respond(status: 200, reason: "OK")
            if side == .customer {
                if session.isRouting { return customerGaveUp(session) }
                guard session.isConfirmed else { return }
                sendBye(to: .vendor, session)
                finishCall(session, reason: .callerHangup, sipCode: 200, hangup: .caller)
            } else {
                guard session.isConfirmed else { return }
                sendBye(to: .customer, session)
                finishCall(session, reason: .calleeHangup, sipCode: 200, hangup: .callee)
            }
        case "INVITE" where isGlare(session, from: side), "UPDATE" where isGlare(session, from: side):
            transaction.respond(status: 491, reason: "Request Pending")
        case "UPDATE" where session.isConfirmed && request.body.isEmpty:
            // A session refresh: it belongs to this leg, so it is answered here, not relayed.
            peerRefreshed(session, side)
            var headers: [(String, String)] = [("Contact", contact(for: side == .customer ? session.customer : (session.vendor ?? session.customer)))]
            if let expires = sessionExpiresHeader(session, side) { headers += [("Require", "timer"), ("Session-Expires", expires)] }
            transaction.respond(status: 200, reason: "OK", headers: headers)
        case "PRACK":
            // Reliable provisionals are per leg: a PRACK is answered here, never relayed.
            guard side == .customer, session.isRouting else {
                return transaction.respond(status: 481, reason: "Call/Transaction Does Not Exist")
            }
            customerPRACK(request, transaction: transaction, session: session)
        case "INVITE", "UPDATE", "INFO", "NOTIFY", "MESSAGE", "OPTIONS":
            if method == "INFO" && receivedDTMFInfo(request, transaction: transaction, session: session, from: side) { return }
            if (method == "INVITE" || method == "UPDATE") && session.isConfirmed { peerRefreshed(session, side) }
            relay(request, transaction: transaction, session: session, from: side)
        default:
            transaction.respond(status: 501, reason: "Not Implemented", headers: [("Allow", B2BUA.allowed)])
        }
    }

    /// Sends a request received on one side to the other, and its answer back.
    private func relay(_ request: SIPMessage, transaction: ServerTransaction, session: CallSession, from side: Side) {
        // Connected calls relay every request; an early dialog only UPDATE (RFC 3311 early offers).
        let early = session.isRouting && request.method == "UPDATE" && !session.cancelRequested
        guard session.isConfirmed || early, var target = side == .customer ? session.vendor : Optional(session.customer),
              target.remoteTag != nil || side == .vendor, let method = request.method else {
            transaction.respond(status: 491, reason: "Request Pending")
            return
        }
        var outbound = target.request(method, via: newVia(for: target), contact: contact(for: target))
        if side == .customer { session.vendor = target } else { session.customer = target }
        // Session timers are per leg: Session-Expires and Min-SE stay on the side they came from.
        for name in ["Supported", "Event", "Subscription-State"] {
            for value in request.headerValues(name) { outbound.appendHeader(name, value) }
        }
        attachSDP(from: request, to: &outbound, session: session, fromVendor: side == .vendor)
        if outbound.body.isEmpty { outbound.appendHeader("Content-Length", "0") }
        let targetPeer = target.peer
        let offers = method == "INVITE" || method == "UPDATE"
        let targetSide: Side = side == .customer ? .vendor : .customer
        if offers { setOfferPending(session, to: targetSide, true) }
        layer.send(outbound, to: targetPeer) { [unowned self] event in
            if offers && event.isFinal { self.setOfferPending(session, to: targetSide, false) }
            switch event {
            case let .provisional(response):
                guard let status = response.statusCode, status > 100 else { return }
                transaction.respond(self.relayedResponse(response, to: request, session: session, fromVendor: side == .customer))
            case let .final(response):
                guard let status = response.statusCode else { return }
                if method == "INVITE" && (200..<300).contains(status) {
                    let sequence = (try? response.cseq().sequence) ?? 0
                    if outbound.body.isEmpty && !response.body.isEmpty {
                        // An offerless re-INVITE: the answer to this offer comes in the requester's ACK.
                        session.connected?.acknowledgementAwaitingAnswer = (targetSide, sequence)
                    } else {
                        let ack = target.request("ACK", sequence: sequence, via: self.newVia(for: target), contact: nil)
                        self.layer.sendStateless(self.withContentLength(ack), to: targetPeer)
                    }
                }
                transaction.respond(self.relayedResponse(response, to: request, session: session, fromVendor: side == .customer))
            case .timeout:
                transaction.respond(status: 408, reason: "Request Timeout")
            }
        }
    }

    private func relayedResponse(_ response: SIPMessage, to request: SIPMessage, session: CallSession, fromVendor: Bool) -> SIPMessage {
        let status = response.statusCode ?? 500
        var relayed = SIPMessage.response(to: request, status: status, reason: response.reasonPhrase)
        if (200..<300).contains(status) {
            relayed.appendHeader("Contact", contact(for: fromVendor ? session.customer : (session.vendor ?? session.customer)))
            if let method = request.method, method == "INVITE" || method == "UPDATE",
               let expires = sessionExpiresHeader(session, fromVendor ? .customer : .vendor) {
                relayed.appendHeader("Session-Expires", expires)
            }
        }
        for value in response.headerValues("Retry-After") { relayed.appendHeader("Retry-After", value) }
        attachSDP(from: response, to: &relayed, session: session, fromVendor: fromVendor)
        return relayed
    }

    func sendBye(to side: Side, _ session: CallSession) {
        if side == .vendor {
            // A vendor dialog still waiting for its ACK (delayed offer) gets one before the BYE.
            sendHeldVendorAck(session, answer: nil)
            guard var vendor = session.vendor, vendor.remoteTag != nil else { return }
            let bye = withContentLength(vendor.request("BYE", via: newVia(for: vendor), contact: nil))
            session.vendor = vendor
            layer.send(bye, to: vendor.peer) { _ in }
        } else {
            var customer = session.customer
            let bye = withContentLength(customer.request("BYE", via: newVia(for: customer), contact: nil))
            session.customer = customer
            layer.send(bye, to: customer.peer) { _ in }
        }
    }

    /// Ends a connected call from the switch's side (RTP timeout, limits): BYE to both.
    func hangUpBoth(_ session: CallSession, reason: EndReason) {
        guard session.isConfirmed else { return }
        sendBye(to: .customer, session)
        sendBye(to: .vendor, session)
        finishCall(session, reason: reason, sipCode: 200, hangup: .system)
    }

    // MARK: The customer's 2xx until its ACK

    func startCustomer2xxRetransmission(_ session: CallSession, answer: SIPMessage) {
        guard !session.customer.peer.isReliable else { return }
        session.connected?.unacknowledged = CallSession.Unacknowledged(
            answer: answer, interval: layer.timers.t1, deadline: loop.now + layer.timers.transactionTimeout.nanoseconds)
        scheduleCustomer2xx(session)
    }

    private func scheduleCustomer2xx(_ session: CallSession) {
        guard let pending = session.connected?.unacknowledged else { return }
        session.connected?.unacknowledged?.timer = loop.schedule(after: pending.interval) { [unowned self] in
            guard let pending = session.connected?.unacknowledged else { return }
            if self.loop.now >= pending.deadline {
                session.connected?.unacknowledged = nil
                return self.hangUpBoth(session, reason: .ackTimeout)
            }
            self.layer.sendStateless(pending.answer, to: session.customer.peer)
            session.connected?.unacknowledged?.interval = min(pending.interval * 2, self.layer.timers.t2)
            self.scheduleCustomer2xx(session)
        }
    }

    func customerAcknowledged(_ session: CallSession, _ ack: SIPMessage) {
        loop.cancel(session.connected?.unacknowledged?.timer)
        session.connected?.unacknowledged = nil
        sendHeldVendorAck(session, answer: ack)
        acknowledgedReinvite(session, ack, from: .customer)
    }

    /// The requester's ACK of an offerless re-INVITE: its answer goes on in our ACK to the other side.
    func acknowledgedReinvite(_ session: CallSession, _ ack: SIPMessage, from side: Side) {
        guard let held = session.connected?.acknowledgementAwaitingAnswer, held.to != side,
              let target = held.to == .vendor ? session.vendor : Optional(session.customer) else { return }
        session.connected?.acknowledgementAwaitingAnswer = nil
        var relayed = target.request("ACK", sequence: held.sequence, via: newVia(for: target), contact: nil)
        attachSDP(from: ack, to: &relayed, session: session, fromVendor: side == .vendor)
        if !relayed.body.isEmpty {
            if held.to == .vendor { session.connected?.sdpToVendor = relayed.body } else { session.connected?.sdpToCustomer = relayed.body }
        }
        layer.sendStateless(withContentLength(relayed), to: target.peer)
    }

    /// Delayed offer: the vendor's ACK, with the customer's answer pointed at the relay (none
    /// when the call ends before the customer answered).
    func sendHeldVendorAck(_ session: CallSession, answer: SIPMessage?) {
        guard let sequence = session.connected?.vendorAckAwaitingAnswer, let vendor = session.vendor else { return }
        var ack = vendor.request("ACK", sequence: sequence, via: newVia(for: vendor), contact: nil)
        if let answer { attachSDP(from: answer, to: &ack, session: session, fromVendor: false) }
        ack = withContentLength(ack)
        session.connected?.vendorAckAwaitingAnswer = nil
        session.connected?.vendorAck = ack
        if !ack.body.isEmpty { session.connected?.sdpToVendor = ack.body }
        layer.sendStateless(ack, to: vendor.peer)
    }
}
