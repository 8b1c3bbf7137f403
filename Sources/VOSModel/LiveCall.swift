/// A call that holds a credit reservation, from authorization to settlement. Its stored record is
/// the settlement token: settling deletes it in the same transaction that charges the call, so a
/// second settlement finds nothing to charge.
public struct LiveCall: Sendable, Hashable, Codable {
    public var key: String
    public var callID: String
    public var account: String
    public var caller: String
    public var callee: String
    public var mappingGateway: String
    /// Epoch milliseconds.
    public var setupTime: Int64
    /// The customer rate found at authorization; later rate imports do not change a live call.
    public var rate: RateEntry
    public var vendor: VendorLeg?
    /// The vendor's rate for `vendor.callee` in its clearing account's table, if any.
    public var vendorRate: RateEntry?
    public var answerTime: Int64?
    /// Money held back from the account for this call.
    public var reserved: Money
    /// Connected seconds `reserved` pays for (billing-step aligned).
    public var coveredSeconds: Int
    /// Whether the call must be released when `coveredSeconds` is reached (anti-overdraft on and a
    /// per-minute price). Without it the reservation only guards admission of concurrent calls.
    public var isLimited: Bool
    /// No further extension will be granted.
    public var isFinal: Bool
    /// Connected seconds the controller last proved alive; what a crash recovery charges.
    public var checkpointSeconds: Int
    public var checkpointTime: Int64?
    /// Free seconds of the account's package this call holds (nil: no package group matched the
    /// callee). `coveredSeconds` counts them; `reserved` is money for the seconds beyond them.
    public var package: PackageGrant?

    public init(key: String, callID: String, account: String, caller: String, callee: String, mappingGateway: String,
                setupTime: Int64, rate: RateEntry, reserved: Money, coveredSeconds: Int, isLimited: Bool, isFinal: Bool) {
        self.key = key
        self.callID = callID
        self.account = account
        self.caller = caller
        self.callee = callee
        self.mappingGateway = mappingGateway
        self.setupTime = setupTime
        self.rate = rate
        self.reserved = reserved
        self.coveredSeconds = coveredSeconds
        self.isLimited = isLimited
        self.isFinal = isFinal
        self.checkpointSeconds = 0
    }

    /// Connected seconds at `now`, 0 before answer. Rounded up whatever the hold-time precision:
    /// extensions judge by it, and asking early is the safe side.
    public func connectedSeconds(at now: Int64) -> Int {
        guard let answerTime, now > answerTime else { return 0 }
        return Int((now - answerTime + 999) / 1000)
    }

    public func deadline(extensionLeadSeconds: Int) -> CallDeadline {
        guard isLimited else { return CallDeadline(connectedSeconds: nil, isFinal: false, releaseAt: nil, extendAt: nil) }
        let releaseAt = answerTime.map { $0 + Int64(coveredSeconds) * 1000 }
        let extendAt = isFinal ? nil : releaseAt.map { max(answerTime ?? $0, $0 - Int64(extensionLeadSeconds) * 1000) }
        return CallDeadline(connectedSeconds: coveredSeconds, isFinal: isFinal, releaseAt: releaseAt, extendAt: extendAt)
    }
}
