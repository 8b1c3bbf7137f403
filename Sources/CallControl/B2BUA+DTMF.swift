import MediaControl
import SIPCore
import SIPStack
import Softswitch
import VOSModel

/// DTMF interworking on the signalling side (requirements §6): SIP INFO digits from one side go
/// to the other as INFO, or to vos-mediad to be played as RFC 4733 events or tones; digits
/// vos-mediad reports from the media (events toward a leg without telephone-event, detected
/// tones) go out as INFO. The first method seen in a direction locks it: digits by another
/// method are dropped, so none arrives twice.
extension B2BUA {
    /// An in-dialog INFO carrying a DTMF digit. False when it is not one (it is relayed as any
    /// other request).
    func receivedDTMFInfo(_ request: SIPMessage, transaction: ServerTransaction, session: CallSession, from side: Side) -> Bool {
        guard session.isConfirmed, let type = request.contentType,
              let digit = try? DTMFInfoDigit(contentType: type, body: request.body) else { return false }
        let target: Side = side == .customer ? .vendor : .customer
        let sending = dtmfSend(toward: target, session)
        let receive = side == .customer ? session.codecPlan?.caller.dtmfReceive : session.codecPlan?.vendor.dtmfReceive
        // Passed across as it came: the far side takes INFO too and nothing else claimed the direction.
        if sending == nil || sending == .info, receive != .rfc2833, receive != .inband, lockDTMF(session, from: side, .info) {
            return false
        }
        transaction.respond(status: 200, reason: "OK")
        guard receive != .rfc2833, receive != .inband else {
            logger.info("DTMF \(digit.digit) by SIP INFO ignored (the \(side) leg receives DTMF by \(receive?.rawValue ?? "-") only)", metadata: session.logMetadata)
            return true
        }
        guard lockDTMF(session, from: side, .info) else {
            logger.info("DTMF \(digit.digit) by SIP INFO dropped: the \(side) side sends its digits in the media", metadata: session.logMetadata)
            return true
        }
        guard let mediaSession = session.mediaSession, let media else {
            sendDTMFInfo(digit, to: target, session)
            return true
        }
        media.playDigits(session: mediaSession, leg: target == .customer ? 0 : 1, digits: String(digit.digit),
                         durationMilliseconds: min(max(digit.durationMilliseconds, 40), 2000)) { [loop] failure in
            guard let failure else { return }
            loop.execute { [unowned self] in
                // The media cannot carry it: INFO after all. A drop (lock, filter) stays a drop.
                logger.info("DTMF \(digit.digit) toward the \(target) side: \(failure.message)", metadata: session.logMetadata)
                if failure.code != .dtmfDropped, !session.isEnded { sendDTMFInfo(digit, to: target, session) }
            }
        }
        return true
    }

    /// vos-mediad met a digit from `leg`'s far end that the other leg's media cannot carry.
    public func mediaDigit(session mediaSession: String, leg: Int, digit: Character, durationMilliseconds: Int, method: String) {
        guard let session = callsByMediaSession[mediaSession], session.isConfirmed else { return }
        let from: Side = leg == 0 ? .customer : .vendor
        let heard: DTMFMethod = method == DTMFMethod.inband.rawValue ? .inband : .rfc2833
        guard lockDTMF(session, from: from, heard) else {
            logger.info("DTMF \(digit) by \(method) dropped: the \(from) side already sends its digits by SIP INFO", metadata: session.logMetadata)
            return
        }
        guard let info = try? DTMFInfoDigit(digit: digit, durationMilliseconds: durationMilliseconds) else { return }
        sendDTMFInfo(info, to: from == .customer ? .vendor : .customer, session)
    }

    /// How vos sends DTMF to `side`, once the answer fixed it; nil before (or without a plan).
    private func dtmfSend(toward side: Side, _ session: CallSession) -> DTMFMethod? {
        guard let plan = session.codecPlan, plan.needsMediaProcessing else { return nil }
        return side == .customer ? plan.caller.dtmfSend : plan.vendor.dtmfSend
    }

    /// Locks the direction to `method` when it is the first one seen; false when another holds it.
    private func lockDTMF(_ session: CallSession, from side: Side, _ method: DTMFMethod) -> Bool {
        if let locked = session.dtmfLocks[side] { return locked == method }
        session.dtmfLocks[side] = method
        return true
    }

    private func sendDTMFInfo(_ digit: DTMFInfoDigit, to side: Side, _ session: CallSession) {
        guard var target = side == .customer ? Optional(session.customer) : session.vendor, target.remoteTag != nil else { return }
        var info = target.request("INFO", via: newVia(for: target), contact: contact(for: target))
        if side == .customer { session.customer = target } else { session.vendor = target }
        info.setBody(Array(digit.body.utf8), contentType: DTMFInfoDigit.contentType)
        layer.send(info, to: target.peer) { _ in }
    }
}
