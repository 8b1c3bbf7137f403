/// What the controller asks before it routes a call (requirements §4).
public struct CallAuthorizationRequest: Sendable, Hashable {
    /// The controller's unique key for this call; every later billing call names it.
    public var key: String
    public var callID: String
    public var account: String
    public var caller: String
    /// The number the customer's rate table is searched with (callee as received, after the
    /// mapping gateway's rewrite).
    public var callee: String
    public var mappingGateway: String
    /// The first vendor tried, when already known; `markAnswered` records the one that answered.
    public var vendor: VendorLeg?
    /// Unix epoch milliseconds.
    public var now: Int64

    public init(key: String, callID: String, account: String, caller: String, callee: String,
                mappingGateway: String, vendor: VendorLeg? = nil, now: Int64) {
        self.key = key
        self.callID = callID
        self.account = account
        self.caller = caller
        self.callee = callee
        self.mappingGateway = mappingGateway
        self.vendor = vendor
        self.now = now
    }
}

/// The answer to a `CallAuthorizationRequest`.
public enum CallAuthorization: Sendable, Hashable {
    /// Credit is reserved; the call may proceed under this deadline.
    case granted(CallDeadline)
    case refused(CallRefusal)

    public var deadline: CallDeadline? {
        if case let .granted(deadline) = self { return deadline }
        return nil
    }

    public var refusal: CallRefusal? {
        if case let .refused(refusal) = self { return refusal }
        return nil
    }
}
