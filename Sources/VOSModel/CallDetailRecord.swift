/// Why a call ended, with VOS3000's names so operators' reports keep working (requirements §3).
public enum EndReason: String, Sendable, Codable, CaseIterable {
    case noAvailableRouter = "NoAvailableRouter"
    case allGatewayBusy = "AllGatewayBusy"
    case gatewayTimeout = "GatewayTimeout"
    case inviteTimeout = "InviteTimeout"
    case ringingTimeout = "RingingTimeout"
    case accountBalanceNotEnough = "AccountBalanceNotEnough"
    case accountLocked = "AccountLocked"
    case rateLimited = "RateLimited"
    case blacklisted = "Blacklisted"
    case sessionTimeout = "SessionTimeout"
    case rtpTimeout = "RtpTimeout"
    case callerHangup = "CallerHangup"
    case calleeHangup = "CalleeHangup"
    case callerCancel = "CallerCancel"
    case balanceExhausted = "BalanceExhausted"
    case conversationLimit = "ConversationLimit"
    case controllerRestart = "ControllerRestart"
    case unauthorizedSource = "UnauthorizedSource"
    case codecMismatch = "CodecMismatch"
    /// The mapping gateway or account is at its concurrent-call limit.
    case concurrentLimit = "ConcurrentLimit"
    /// The relay was required (SS_MEDIAPROXYMODE 3) but vos-mediad could not give a session.
    case mediaUnavailable = "MediaUnavailable"
    /// The customer never acknowledged our 2xx (RFC 3261 §13.3.1.4): the call is torn down.
    case ackTimeout = "AckTimeout"
    /// The vendor's final failure after failover was exhausted; the code is in `sipCode`.
    case vendorFailure = "VendorFailure"
    /// A deny rule of a mapping gateway's caller or callee dial plan matched (403).
    case dialPlanDenied = "DialPlanDenied"
    /// Every number of the routing gateway's caller number pool is at its Multiplexes (503).
    case callerPoolExhausted = "CallerPoolExhausted"
    /// Geofencing refused the signalling source or an SDP media address (403), or the RTP source
    /// vos-mediad latched on a leg (BYE on both legs, or 403 before the answer).
    case geofenceForbidden = "GeofenceForbidden"
    /// Margin protection (an account option): every vendor that could take the call charges more
    /// for the number than the customer pays (503).
    case marginProtected = "MarginProtected"
    /// `SS_LRN_FAILURE_ACTION` 1: the callee is not in the LRN table (404).
    case lrnNotFound = "LRNNotFound"
    /// Cluster mode: the account holds no credit lease on this node and the cluster database
    /// cannot be reached to get one (503 with Retry-After, so the customer's own failover acts).
    case clusterUnavailable = "ClusterUnavailable"
}

public enum HangupSide: String, Sendable, Codable, CaseIterable { case caller, callee, system }

/// One routing gateway tried for a call and what it answered.
public struct GatewayAttempt: Sendable, Hashable, Codable {
    public var gateway: String
    /// Final SIP code, or nil when the gateway never answered.
    public var sipCode: Int?
    public var reason: String

    public init(gateway: String, sipCode: Int?, reason: String) {
        self.gateway = gateway
        self.sipCode = sipCode
        self.reason = reason
    }
}

public struct LegMediaStatistics: Sendable, Hashable, Codable {
    public var packetsReceived: UInt64 = 0
    public var packetsSent: UInt64 = 0
    public var packetsLost: UInt64 = 0
    /// RFC 3550 interarrival jitter in milliseconds.
    public var jitterMilliseconds: Double = 0
    // From the leg's far end's last RTCP report (what it received from the relay), measured
    // whether the relay or the kernel forwarded the RTP; nil when it sent none. Optional, so
    // records written before these existed still read.
    /// Fraction lost of the last report, in percent.
    public var rtcpLossPercent: Double?
    /// Cumulative packets lost of the last report.
    public var rtcpPacketsLost: Int64?
    public var rtcpJitterMilliseconds: Double?
    /// Round trip between the relay and the far end (RTCP LSR/DLSR), in milliseconds.
    public var roundTripMilliseconds: Double?
    /// Requirements §5 band at the end of the call (`MediaQuality.classify`).
    public var quality: QualityBand?
    /// The far end stopped sending RTP for `MediaQuality.oneWayAudioSeconds` while the other
    /// kept sending, at some point of the call (or at its end).
    public var oneWayAudio: Bool?

    public init() {}
}

/// One row per call attempt (requirements §1). Times are Unix epoch milliseconds.
public struct CallDetailRecord: Sendable, Hashable, Codable {
    public var id: UInt64
    public var callID: String
    public var setupTime: Int64
    public var ringingTime: Int64?
    /// Post-dial delay: INVITE to the first 180/183, or to the answer when there was none
    /// (`postDialDelay(setupTime:ringingTime:)`); nil when the call neither rang nor was answered.
    /// Optional so records written before it existed still decode.
    public var postDialDelayMilliseconds: Int?
    public var answerTime: Int64?
    public var endTime: Int64
    /// Connected seconds (answer to end), rounded up to a whole second.
    public var durationSeconds: Int
    public var billedSeconds: Int
    public var callerReceived: String
    public var calleeReceived: String
    public var callerSent: String
    public var calleeSent: String
    public var mappingGateway: String
    public var routingGateway: String?
    public var attempts: [GatewayAttempt]
    /// The codec negotiated on each leg (the caller's answer and the vendor's answer), not the
    /// first one offered; they differ when vos-mediad transcoded.
    public var callerCodec: String?
    public var calleeCodec: String?
    /// How DTMF is sent toward each leg: `rfc2833`, `info` or `inband` (requirements §6).
    public var callerDTMF: String?
    public var calleeDTMF: String?
    public var endReason: EndReason
    /// The SIP code the caller saw (200 for answered calls).
    public var sipCode: Int
    public var hangupSide: HangupSide
    public var account: String?
    public var customerCost: Money
    public var vendorCost: Money
    public var callerMedia: LegMediaStatistics?
    public var calleeMedia: LegMediaStatistics?
    // Wholesale fields (issue 16); optional so older records still decode.
    /// The number routing and rating matched when the LRN table mapped the callee.
    public var routingNumber: String?
    /// The customer package whose free minutes paid for part of the call.
    public var packageName: String?
    /// Billed seconds the package's free minutes covered (not charged).
    public var packageSeconds: Int?
    /// `prepaid` or `postpaid`: the account's kind when the call was billed.
    public var billingMethod: String?

    public init(id: UInt64, callID: String, setupTime: Int64, endTime: Int64, callerReceived: String,
                calleeReceived: String, mappingGateway: String, endReason: EndReason, sipCode: Int,
                hangupSide: HangupSide) {
        self.id = id
        self.callID = callID
        self.setupTime = setupTime
        self.endTime = endTime
        self.durationSeconds = 0
        self.billedSeconds = 0
        self.callerReceived = callerReceived
        self.calleeReceived = calleeReceived
        self.callerSent = callerReceived
        self.calleeSent = calleeReceived
        self.mappingGateway = mappingGateway
        self.attempts = []
        self.endReason = endReason
        self.sipCode = sipCode
        self.hangupSide = hangupSide
        self.customerCost = .zero
        self.vendorCost = .zero
    }

    /// What the operator keeps: customer revenue less vendor cost.
    public var margin: Money { customerCost - vendorCost }
}
