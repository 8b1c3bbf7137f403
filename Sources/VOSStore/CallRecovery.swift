import VOSModel

/// What the controller runs once at start, before it takes calls: every call that was live when
/// the previous controller died gets its CDR and its reservation back (requirements §4).
extension Transaction {
    /// Settles every live call with end reason ControllerRestart, charging the connected time its
    /// last checkpoint proves (nothing for an unanswered call) by the same rule as `settleCall`:
    /// billing precision, package free seconds and their usage included. Returns the CDRs written; a
    /// second run finds no live call and returns none. Run it in one write transaction so a crash
    /// during recovery leaves every call to the next recovery.
    @discardableResult
    public func recoverInterruptedCalls(now: Int64, policy: ReservationPolicy? = nil) throws -> [CallDetailRecord] {
        let calls = try liveCalls()
        guard !calls.isEmpty else { return [] }
        let policy = try policy ?? ReservationPolicy(parameters: parameters())
        var records: [CallDetailRecord] = []
        for call in calls {
            let answered = call.answerTime != nil
            // The call's end is unknown; the CDR ends at the last moment it was proven connected.
            let endTime = call.answerTime.map { $0 + Int64(call.checkpointSeconds) * 1000 } ?? call.setupTime
            var draft = CallDetailRecord(
                id: 0, callID: call.callID, setupTime: call.setupTime, endTime: endTime,
                callerReceived: call.caller, calleeReceived: call.callee, mappingGateway: call.mappingGateway,
                endReason: .controllerRestart, sipCode: answered ? 200 : 500, hangupSide: .system)
            draft.answerTime = call.answerTime
            if let vendor = call.vendor { draft.calleeSent = vendor.callee }
            records.append(try settle(call, draft: draft, bookedAt: now, policy: policy))
        }
        return records
    }
}
