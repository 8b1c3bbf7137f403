import VOSModel

/// A call as it starts: what the NOC's metrics and call-state webhooks report first.
public struct CallStartedEvent: Sendable {
    public var callID: String
    public var caller: String
    public var callee: String
    public var mappingGateway: String
    public var account: String?
    /// Unix epoch milliseconds.
    public var setupTime: Int64
}

/// A call answered by a vendor.
public struct CallAnsweredEvent: Sendable {
    public var callID: String
    public var caller: String
    public var callee: String
    public var mappingGateway: String
    public var routingGateway: String
    public var account: String?
    public var setupTime: Int64
    public var answerTime: Int64
    /// First 180/183 (or the answer, when there was none), Unix epoch milliseconds.
    public var ringingTime: Int64?
    public var callerCodec: String?
    public var calleeCodec: String?
}

/// What the B2BUA tells the world outside SIP about calls as they happen: Prometheus metrics and
/// the HTTP call-state webhook subscribe here. Called on the SIP thread, so an observer only
/// records or queues (never blocks, never does I/O there). The settled CDR of each call, with its
/// costs, comes later from the ledger (`StoreCallLedger`'s `recorded` callback), once it is stored.
public protocol CallEventObserver: AnyObject {
    /// A customer INVITE became a call (admitted or about to be refused: every attempt is counted).
    func callStarted(_ event: CallStartedEvent)
    /// One vendor INVITE of a call (failover sends several).
    func vendorAttempted(callID: String, routingGateway: String)
    func callAnswered(_ event: CallAnsweredEvent)
    /// The call is over on the SIP side; its CDR follows from the ledger.
    func callEnded(callID: String, mappingGateway: String, routingGateway: String?)
    /// A vendor leg was created with a Call-ID of its own (`legCallID`), before its INVITE leaves:
    /// what the SIP trace ring needs to show both legs of `callID`.
    func vendorLegStarted(callID: String, legCallID: String)
}

/// Observers implement what they use; the rest do nothing.
extension CallEventObserver {
    public func callStarted(_ event: CallStartedEvent) {}
    public func vendorAttempted(callID: String, routingGateway: String) {}
    public func callAnswered(_ event: CallAnsweredEvent) {}
    public func callEnded(callID: String, mappingGateway: String, routingGateway: String?) {}
    public func vendorLegStarted(callID: String, legCallID: String) {}
}
