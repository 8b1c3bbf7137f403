import MediaControl
import SIPCore
import SIPStack
import Softswitch
import VOSModel

/// Geofencing on the call path (requirements §7): the signalling source of a new INVITE, the SDP
/// media addresses of the customer's offer and of the vendor's 18x/2xx, and the RTP source
/// vos-mediad latched on either leg. The verdicts come from the snapshot's `Geofence` (sorted once
/// per configuration); this file decides only what a refusal does to the call: 403 and a CDR
/// before the answer, BYE on both legs after it, always with GeofenceForbidden. It must not read
/// the store, and it parses no SDP but a vendor response's, and only while ranges are configured.
extension B2BUA {
    /// Whether geofencing refuses `source` as a signalling peer: what the registrar asks of a
    /// REGISTER's source address too.
    func geofenceRefuses(source: IPAddress) -> Bool {
        !snapshot.geofence.isEmpty && snapshot.geofence.verdict(for: source).refuses
    }

    /// A new INVITE from a refused signalling source: the refusal its CDR records (403).
    func signallingGeofenceRefusal(_ session: CallSession) -> Admission.Refusal? {
        guard !snapshot.geofence.isEmpty else { return nil }
        let source = session.customer.peer.address.address
        let verdict = snapshot.geofence.verdict(for: source)
        guard verdict.refuses else { return nil }
        logger.info("geofencing refuses signalling source \(source): \(verdict.explanation)", metadata: session.logMetadata)
        return Admission.Refusal(reason: .geofenceForbidden, code: 403)
    }

    /// The customer's SDP offer names a refused media address: the call gets 403 and its CDR;
    /// true when it did.
    func refuseForbiddenOffer(_ session: CallSession) -> Bool {
        guard !snapshot.geofence.isEmpty, let offer = session.customerOffer,
              let (address, verdict) = refusedMediaAddress(in: offer) else { return false }
        logger.info("geofencing refuses the caller's SDP media address \(address): \(verdict.explanation)", metadata: session.logMetadata)
        endBeforeAnswer(session, cancellingVendor: false)
        return true
    }

    /// A vendor's 18x or 2xx whose SDP names a refused media address ends the call (no
    /// failover: a vendor sending media from where it must not is for the operator to see).
    /// True when the response must go no further: an 18x is not relayed, and the attempt is
    /// cancelled; a 2xx goes on to `vendorAnswered`, which finds the call ended and sends the
    /// vendor its ACK and a BYE.
    func geofenceRefusesVendorMedia(_ session: CallSession, candidate: RouteCandidate, _ event: ClientTransaction.Event) -> Bool {
        guard !snapshot.geofence.isEmpty, session.isTrying(candidate) else { return false }
        let response: SIPMessage
        switch event {
        case let .provisional(message), let .final(message): response = message
        case .timeout: return false
        }
        guard let status = response.statusCode, (101..<300).contains(status), !response.body.isEmpty,
              response.contentType?.lowercased().hasPrefix("application/sdp") ?? false,
              let sdp = try? SDPSession(parsing: response.body),
              let (address, verdict) = refusedMediaAddress(in: sdp) else { return false }
        logger.info("geofencing refuses \(candidate.gateway.name)'s SDP media address \(address) in its \(status): \(verdict.explanation)", metadata: session.logMetadata)
        guard status < 200 else {
            endBeforeAnswer(session, cancellingVendor: false)
            return false
        }
        // This provisional is what makes a CANCEL allowed (RFC 3261 §9.1); the attempt then
        // keeps its line until the vendor's 487.
        session.attempt?.provisionalSeen = true
        endBeforeAnswer(session, cancellingVendor: true)
        return true
    }

    /// vos-mediad latched `leg`'s far end (its first RTP packet came from `address`). A refused
    /// source ends the call: BYE on both legs once connected, 403 and CANCEL before.
    public func mediaLatched(session mediaSession: String, leg: Int, address: MediaEndpoint) {
        guard !snapshot.geofence.isEmpty, let session = callsByMediaSession[mediaSession], !session.isEnded,
              let source = IPAddress(address.ip) else { return }
        let verdict = snapshot.geofence.verdict(for: source)
        guard verdict.refuses else { return }
        logger.notice("geofencing refuses the RTP source \(address) of the \(leg == 0 ? "caller" : "callee")'s leg: \(verdict.explanation); releasing", metadata: session.logMetadata)
        if session.isConfirmed { return hangUpBoth(session, reason: .geofenceForbidden) }
        endBeforeAnswer(session, cancellingVendor: session.attempt?.provisionalSeen == true)
    }

    /// Whether vos-mediad's `legLatched` events are worth a trip to the SIP loop: only while
    /// ranges are configured (read by the controller's media-event thread).
    func reloadGeofence(_ fresh: ControllerSnapshot) {
        checksLatchedSources.store(!fresh.geofence.isEmpty, ordering: .relaxed)
    }

    /// 403 to the customer, CANCEL to a vendor that has answered provisionally, the CDR.
    private func endBeforeAnswer(_ session: CallSession, cancellingVendor: Bool) {
        guard session.isRouting else { return }
        session.customerInvite.respond(status: 403, reason: "Forbidden", toTag: session.customer.localTag)
        if cancellingVendor { sendCancel(session) }
        finishCall(session, reason: .geofenceForbidden, sipCode: 403, hangup: .system)
    }

    /// The first media address of `sdp` geofencing refuses: each active stream's connection
    /// (its own c=, else the session's). Hold (0.0.0.0, ::) and names that are not addresses are
    /// not checked.
    private func refusedMediaAddress(in sdp: SDPSession) -> (IPAddress, Geofence.Verdict)? {
        for stream in sdp.media where (stream.port ?? 0) > 0 {
            guard let text = (stream.connection ?? sdp.connection)?.address,
                  let address = IPAddress(text), !address.isUnspecified else { continue }
            let verdict = snapshot.geofence.verdict(for: address)
            if verdict.refuses { return (address, verdict) }
        }
        return nil
    }
}
