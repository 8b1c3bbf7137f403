import SIPStack

/// What the trace ring needs from the B2BUA to show both legs of a call (`vosctl trace`): which
/// call a vendor leg's Call-ID belongs to. Asked once per vendor INVITE, on the loop thread.
extension B2BUA {
    /// The customer leg's Call-ID of the live call that has a leg with `legCallID` and our tag
    /// `localTag`; nil when no live call has it.
    public func callID(ofLeg legCallID: String, localTag: String) -> String? {
        dialogs[DialogLeg.key(callID: legCallID, localTag: localTag)]?.session.callID
    }
}
