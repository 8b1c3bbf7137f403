import MediaControl
import SIPStack
import VOSModel

/// The end of a call: counters released exactly once, the relay session deleted, one CDR.
extension B2BUA {
    func finishCall(_ session: CallSession, reason: EndReason, sipCode: Int, hangup: HangupSide) {
        guard !session.isEnded else { return }
        if let attempt = session.attempt, !attempt.provisionalSeen {
            // No provisional yet, so no CANCEL is allowed (§9.1): stop the attempt outright.
            attempt.transaction?.abandon()
            if let vendor = session.vendor, dialogs[vendor.key]?.session === session { dialogs[vendor.key] = nil }
            releaseVendorLine(session)
        } else if session.isConfirmed {
            releaseVendorLine(session)
            if let vendor = session.vendor { dialogs[vendor.key] = nil }
        }
        // A cancelled attempt that had rung keeps its line until the vendor's 487 (attemptFailed).
        session.leave(to: .ended, cancelling: loop.cancel)
        sessionsByInvite[ObjectIdentifier(session.customerInvite)] = nil
        dialogs[session.customer.key] = nil
        activeByMapping[session.mappingGateway.name, default: 1] -= 1
        for observer in callObservers {
            observer.callEnded(callID: session.callID, mappingGateway: session.mappingGateway.name,
                               routingGateway: session.lastCandidate?.gateway.name)
        }
        let endWall = loop.wallMilliseconds
        let endMonotonic = loop.now
        guard let mediaSession = session.mediaSession, let media else {
            return recordCDR(session, reason: reason, sipCode: sipCode, hangup: hangup, media: nil,
                             endWall: endWall, endMonotonic: endMonotonic)
        }
        callsByMediaSession[mediaSession] = nil
        callsAwaitingCDR += 1
        // The CDR waits for the relay's final counters; the SIP loop does not.
        media.deleteSession(mediaSession) { [loop] statistics in
            loop.execute { [self] in
                self.callsAwaitingCDR -= 1
                self.recordCDR(session, reason: reason, sipCode: sipCode, hangup: hangup, media: statistics,
                               endWall: endWall, endMonotonic: endMonotonic)
            }
        }
    }

    func recordCDR(_ session: CallSession, reason: EndReason, sipCode: Int, hangup: HangupSide, media: SessionInfo?,
                   endWall: Int64? = nil, endMonotonic: UInt64? = nil) {
        let end = endWall ?? loop.wallMilliseconds
        let endNow = endMonotonic ?? loop.now
        dynamicBlacklistCallEnded(session, endMonotonic: endNow)
        var record = CallDetailRecord(
            id: 0, callID: session.callID, setupTime: session.setupTime, endTime: end,
            callerReceived: session.callerReceived, calleeReceived: session.calleeReceived,
            mappingGateway: session.mappingGateway.name, endReason: reason, sipCode: sipCode, hangupSide: hangup)
        record.account = session.account
        record.ringingTime = session.ringingTime
        record.postDialDelayMilliseconds = CallDetailRecord.postDialDelay(setupTime: session.setupTime, ringingTime: session.ringingTime)
        record.answerTime = session.answerTime
        if let answered = session.answerMonotonic {
            let nanoseconds = endNow > answered ? endNow - answered : 0
            record.durationSeconds = Int((nanoseconds + 999_999_999) / 1_000_000_000)
        }
        record.billedSeconds = record.durationSeconds
        record.callerSent = session.callerSent ?? session.callerOut
        record.calleeSent = session.lastCandidate?.calleeOut ?? session.calleeNumber
        record.routingNumber = session.routingNumber
        if session.answerTime != nil { recordAnsweredAttempt(session, endMonotonic: endNow) }
        record.attempts = session.plan.attempts
        if session.answerTime != nil, let connected = session.lastCandidate {
            record.routingGateway = connected.gateway.name
            record.attempts.append(GatewayAttempt(gateway: connected.gateway.name, sipCode: 200, reason: "connected"))
        } else {
            record.routingGateway = session.plan.attempts.last?.gateway
        }
        record.callerCodec = session.callerCodec
        record.calleeCodec = session.calleeCodec
        record.callerDTMF = session.callerDTMF
        record.calleeDTMF = session.calleeDTMF
        if let legs = media?.legs, legs.count == 2 {
            record.callerMedia = LegMediaStatistics(legs[0])
            record.calleeMedia = LegMediaStatistics(legs[1])
        }
        ledger.finish(session.billingKey, draft: record, policy: reservationPolicy)
        session.billingKey = nil
    }

    /// vos-mediad saw no RTP for SS_RTP_TIMEOUT: release the call (requirements §5).
    public func mediaTimedOut(session mediaSession: String) {
        guard let session = callsByMediaSession[mediaSession] else { return }
        logger.info("no RTP for \(parameters.int(.rtpTimeout)) s, releasing", metadata: session.logMetadata)
        hangUpBoth(session, reason: .rtpTimeout)
    }
}

extension LegMediaStatistics {
    init(_ leg: LegInfo) {
        self.init()
        packetsReceived = leg.received.packets
        packetsSent = leg.sent.packets
        packetsLost = UInt64(max(0, leg.lost))
        jitterMilliseconds = leg.jitterMs
        rtcpLossPercent = leg.rtcpLossPercent
        rtcpPacketsLost = leg.rtcpLost
        rtcpJitterMilliseconds = leg.rtcpJitterMs
        roundTripMilliseconds = leg.roundTripMs
        quality = leg.quality
        oneWayAudio = leg.oneWayAudioSeen ?? leg.oneWayAudio
    }
}
