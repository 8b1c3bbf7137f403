import SIPCore
import SIPStack
import VOSModel

/// RFC 3262 per leg: reliable 18x to the customer with vos's own RSeq, retransmitted until the
/// customer's PRACK; vos's own PRACKs to the vendor's reliable 18x. A PRACK never crosses legs.
extension B2BUA {
    /// The customer's INVITE against the mapping gateway's mode: nil to go on, or the refusal
    /// (420 when it requires 100rel and the gateway has it off, 421 when the gateway requires it
    /// and the customer does not support it).
    func reliableProvisionalRefusal(_ request: SIPMessage, gateway: MappingGateway) -> (status: Int, reason: String, headers: [(String, String)])? {
        let required = request.require.contains("100rel")
        let supported = required || request.supported.contains("100rel")
        switch gateway.reliableProvisionalMode {
        case .off where required: return (420, "Bad Extension", [("Unsupported", "100rel")])
        case .require where !supported: return (421, "Extension Required", [("Require", "100rel")])
        default: return nil
        }
    }

    /// Whether this customer gets its 18x reliably.
    func customerGetsReliableProvisionals(_ request: SIPMessage, gateway: MappingGateway) -> Bool {
        gateway.reliableProvisionalMode != .off && (request.require.contains("100rel") || request.supported.contains("100rel"))
    }

    /// What a vendor INVITE says about 100rel.
    func offerReliableProvisionals(_ invite: inout SIPMessage, gateway: RoutingGateway) {
        switch gateway.reliableProvisionalMode {
        case .off: break
        case .supported: invite.appendHeader("Supported", "100rel")
        case .require:
            invite.appendHeader("Supported", "100rel")
            invite.appendHeader("Require", "100rel")
        }
    }

    /// A vendor 18x: PRACK it when it is reliable. False for a repeat already handled, which
    /// must not reach the customer twice.
    func acknowledgeVendorProvisional(_ session: CallSession, _ response: SIPMessage) -> Bool {
        guard response.require.contains("100rel"), let rseqText = response.firstHeaderValue("RSeq") else { return true }
        guard let rseq = UInt32(rseqText.filter { $0 != " " && $0 != "\t" }), rseq > 0,
              let invite = session.attempt?.request, let cseq = try? invite.cseq(), var vendor = session.vendor else {
            logger.warning("vendor sent a reliable provisional with a malformed RSeq '\(rseqText)'; not acknowledged", metadata: session.logMetadata)
            return true
        }
        if let last = session.attempt?.vendorRSeq, rseq <= last { return false }
        session.attempt?.vendorRSeq = rseq
        // The PRACK goes inside the early dialog this 18x created.
        vendor.remoteTag = try? response.to().tag
        vendor.remoteParty = response.firstHeaderValue("To") ?? vendor.remoteParty
        if let target = try? response.contacts().first?.uri { vendor.remoteTarget = target }
        var prack = vendor.request("PRACK", via: newVia(for: vendor), contact: nil)
        session.vendor = vendor
        prack.appendHeader("RAck", "\(rseq) \(cseq.sequence) INVITE")
        prack.appendHeader("Content-Length", "0")
        layer.send(prack, to: vendor.peer) { _ in }
        return true
    }

    /// Sends a provisional to the customer: reliably (RSeq, retransmitted until PRACK) when it
    /// takes them, held back while an earlier reliable one is unacknowledged.
    func sendCustomerProvisional(_ session: CallSession, _ response: SIPMessage) {
        guard session.customerReliable, (response.statusCode ?? 0) > 100, var routing = session.routing else {
            return session.customerInvite.respond(response)
        }
        if routing.unacknowledgedProvisional != nil {
            routing.heldProvisional = response
            session.routing = routing
            return
        }
        var reliable = response
        let rseq = session.nextRSeq
        session.nextRSeq &+= 1
        reliable.appendHeader("Require", "100rel")
        reliable.appendHeader("RSeq", String(rseq))
        routing.unacknowledgedProvisional = CallSession.ReliableProvisional(
            response: reliable, rseq: rseq, interval: layer.timers.t1, deadline: loop.now + layer.timers.transactionTimeout.nanoseconds)
        session.routing = routing
        session.customerInvite.respond(reliable)
        retransmitCustomerProvisional(session)
    }

    private func retransmitCustomerProvisional(_ session: CallSession) {
        guard let pending = session.routing?.unacknowledgedProvisional else { return }
        session.routing?.unacknowledgedProvisional?.timer = loop.schedule(after: pending.interval) { [unowned self] in
            guard let pending = session.routing?.unacknowledgedProvisional else { return }
            // RFC 3262 §3: no PRACK within 64*T1; stop retransmitting (the 2xx or failure still goes out).
            guard self.loop.now < pending.deadline else {
                self.logger.info("the customer never acknowledged reliable provisional RSeq \(pending.rseq)", metadata: session.logMetadata)
                session.routing?.unacknowledgedProvisional = nil
                return
            }
            session.customerInvite.respond(pending.response)
            session.routing?.unacknowledgedProvisional?.interval = pending.interval * 2
            self.retransmitCustomerProvisional(session)
        }
    }

    /// A PRACK from the customer: answered here, never relayed.
    func customerPRACK(_ request: SIPMessage, transaction: ServerTransaction, session: CallSession) {
        guard let rack = request.firstHeaderValue("RAck") else {
            return transaction.respond(status: 400, reason: "Missing RAck")
        }
        let parts = rack.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 3, let rseq = UInt32(parts[0]), let cseq = UInt32(parts[1]), parts[2].uppercased() == "INVITE" else {
            return transaction.respond(status: 400, reason: "Malformed RAck")
        }
        guard let pending = session.routing?.unacknowledgedProvisional, pending.rseq == rseq,
              (try? session.customerInvite.request.cseq().sequence) == cseq else {
            return transaction.respond(status: 481, reason: "Call/Transaction Does Not Exist")
        }
        loop.cancel(pending.timer)
        session.routing?.unacknowledgedProvisional = nil
        transaction.respond(status: 200, reason: "OK")
        if let held = session.routing?.heldProvisional {
            session.routing?.heldProvisional = nil
            sendCustomerProvisional(session, held)
        }
    }
}
