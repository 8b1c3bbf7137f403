import Logging
import MediaControl
import SIPCore
import SIPStack
import Softswitch
import VOSModel

/// One call through the B2BUA: the customer's INVITE, the vendor attempts, the two dialogs once
/// connected, the media session and everything its CDR will say. Lives on the event loop thread.
///
/// @unchecked Sendable: confined to the event loop; other threads only carry it back there
/// through `loop.execute`.
final class CallSession: @unchecked Sendable {
    /// Where the call is, with what only that phase has: its timers live in the phase, so
    /// leaving a phase (`leave`) cancels all of them in one place.
    enum State {
        /// Trying vendors; the customer has had at most provisional responses.
        case routing(Routing)
        /// Connected: a 2xx went to the customer.
        case confirmed(Connected)
        /// Finished; waiting only for BYE responses.
        case ended
    }

    /// The vendor being tried.
    struct Attempt {
        let candidate: RouteCandidate
        /// Our INVITE to the vendor (for CANCEL) and its client transaction.
        let request: SIPMessage
        var transaction: ClientTransaction?
        /// A provisional response arrived: CANCEL is allowed (RFC 3261 §9.1) and the ringing
        /// timer runs instead of the INVITE timer.
        var provisionalSeen = false
        /// SS_SIP_TIMEOUT_INVITE, then SS_SIP_TIMEOUT_RINGING once a provisional arrived.
        var timer: TimerID?
        /// Session-Expires offered (nil: no timer offered); raised after a 422, at most twice.
        var offeredSessionExpires: Int?
        var sessionTimerRetries = 0
        /// The vendor's last reliable provisional (RFC 3262): a repeat of it is not relayed again.
        var vendorRSeq: UInt32?

        init(candidate: RouteCandidate, request: SIPMessage, transaction: ClientTransaction? = nil, provisionalSeen: Bool = false,
             timer: TimerID? = nil, offeredSessionExpires: Int? = nil, sessionTimerRetries: Int = 0) {
            self.candidate = candidate
            self.request = request
            self.transaction = transaction
            self.provisionalSeen = provisionalSeen
            self.timer = timer
            self.offeredSessionExpires = offeredSessionExpires
            self.sessionTimerRetries = sessionTimerRetries
        }
    }

    /// One leg's running RFC 4028 timer: the next refresh vos sends, or the expiry it watches.
    struct LegTimer {
        var negotiated: LegSessionTimer
        var timer: TimerID?
    }

    struct Routing {
        var attempt: Attempt?
        /// The customer gave up (CANCEL or BYE) before a vendor answered.
        var cancelRequested = false
        /// A reliable provisional to the customer waiting for its PRACK, and the next one held
        /// back until then (RFC 3262 §3: one unacknowledged at a time).
        var unacknowledgedProvisional: ReliableProvisional?
        var heldProvisional: SIPMessage?
    }

    /// A reliable 18x vos sent the customer, retransmitted until PRACKed.
    struct ReliableProvisional {
        let response: SIPMessage
        let rseq: UInt32
        var interval: Duration
        let deadline: UInt64
        var timer: TimerID?
    }

    /// The customer's 2xx, retransmitted until its ACK (RFC 3261 §13.3.1.4).
    struct Unacknowledged {
        let answer: SIPMessage
        var interval: Duration
        let deadline: UInt64
        var timer: TimerID?
    }

    struct Connected {
        /// The vendor that answered.
        let candidate: RouteCandidate
        var unacknowledged: Unacknowledged?
        /// The routing gateway's conversation limit.
        var conversationTimer: TimerID?
        /// The ledger's next word on credit: release (BalanceExhausted) or extend.
        var creditTimer: TimerID?
        var customerTimer: LegTimer?
        var vendorTimer: LegTimer?
        /// SS_SIP_NO_TIMER_REINVITE_INTERVAL, when neither leg has a timer.
        var noTimerLimit: TimerID?
        /// What each peer accepts for refreshes, and the SDP it last got from vos (re-INVITE refreshes repeat it).
        var customerAllowsUpdate = false
        var vendorAllowsUpdate = false
        var sdpToCustomer: [UInt8] = []
        var sdpToVendor: [UInt8] = []
        /// Delayed offer: the vendor's 2xx carried the offer, so its ACK waits for the customer's
        /// ACK and the answer in it (CSeq of the vendor's INVITE). Then the ACK sent, repeated
        /// if the vendor's 2xx is retransmitted.
        var vendorAckAwaitingAnswer: UInt32?
        var vendorAck: SIPMessage?
        /// An INVITE or UPDATE of vos's is pending on that leg: one from the peer meets 491 (glare).
        var offerPendingToCustomer = false
        var offerPendingToVendor = false
        /// A refresh waiting out a 491 before it is tried again.
        var glareRetry: TimerID?
        /// A re-INVITE without SDP relayed across: the other side's 2xx carried the offer, so the
        /// ACK to that side waits for the requester's ACK with the answer.
        var acknowledgementAwaitingAnswer: (to: B2BUA.Side, sequence: UInt32)?

        var timers: [TimerID?] {
            [unacknowledged?.timer, conversationTimer, creditTimer, customerTimer?.timer, vendorTimer?.timer, noTimerLimit, glareRetry]
        }
    }

    let id: UInt64
    let customerInvite: ServerTransaction
    let mappingGateway: MappingGateway
    let account: String?
    /// The caller as the mapping gateway let it in (number and the identity headers trusted).
    let inbound: InboundCaller
    var callerReceived: String { inbound.number }
    let calleeReceived: String
    let callerOut: String
    let calleeNumber: String
    let setupTime: Int64
    let setupMonotonic: UInt64
    private(set) var state: State = .routing(Routing())

    /// Customer side: the tag we put in To, the customer's identity, where to reach it.
    var customer: DialogLeg
    /// Vendor side; set when an attempt starts, complete (remote tag, target) once it answers.
    var vendor: DialogLeg?
    var plan: FailoverPlan
    /// The vendor tried last, or the one connected: what the CDR and the calls view name.
    private(set) var lastCandidate: RouteCandidate?
    /// The last vendor's final failure: its Reason and Retry-After go to the caller when the
    /// call fails with that vendor's code.
    var lastVendorFailure: SIPMessage?
    /// The caller number the current vendor got (after its dial plan and pool), and the pool
    /// number held for it.
    var callerSent: String?
    var poolLease: CallerPoolAllocator.Lease?
    /// 3xx redirects followed so far (at most three per call).
    var redirectsFollowed = 0
    /// The customer leg's timer as negotiated on its INVITE (nil: none on that leg), and
    /// whether the customer named `timer` in Supported (then our 2xx says Require: timer).
    var customerSessionTimer: LegSessionTimer?
    var customerSupportsTimer = false
    /// Whether 18x go to the customer reliably, and the RSeq of the next one.
    var customerReliable = false
    var nextRSeq: UInt32 = 1

    /// The customer's SDP offer as received, and its first audio stream as negotiation input
    /// (read once: every vendor attempt and the answer use it).
    var customerOffer: SDPSession? {
        didSet { customerMedia = customerOffer.map { B2BUA.peerMedia(of: $0) } }
    }
    private(set) var customerMedia: PeerMedia?
    var mediaSession: String?
    /// vos-mediad refused it once: later attempts go on without (or fail, where the relay is a must).
    var mediaRefused = false
    /// The relay's two legs as vos-mediad bound them (the wildcard address, or one address).
    var relayLocal: (customer: MediaEndpoint, vendor: MediaEndpoint)?
    /// Where each side is told to send its audio: the relay leg at the address facing that side.
    var customerRelayEndpoint: MediaEndpoint?
    var vendorRelayEndpoint: MediaEndpoint?
    var callerCodec: String?
    /// The callee is a registered user: the call goes to this binding instead of a vendor.
    var registeredTarget: RegistrationBinding?
    var calleeCodec: String?
    var callerDTMF: String?
    var calleeDTMF: String?
    /// The offer planned for the current attempt, the one its INVITE carried (nil when the
    /// caller's SDP went unchanged), and the plan made from that vendor's answer.
    var attemptOffer: VendorOffer?
    var vendorOfferSent: VendorOffer?
    var codecPlan: LegPlan?
    /// The formats vos-mediad was last given before an answer (customer leg, vendor leg).
    var announcedFormats: [LegMedia]?
    /// The DTMF method each side was first heard sending by (requirements §6: it locks the direction).
    var dtmfLocks: [B2BUA.Side: DTMFMethod] = [:]

    var ringingTime: Int64?
    var answerTime: Int64?
    var answerMonotonic: UInt64?
    /// The ledger's key while the call holds a credit reservation (billed calls only).
    var billingKey: String?
    /// Counts against the routing gateway's line limit while set.
    var occupiedVendor: String?
    /// The gateway group line the vendor line counts against, and for whom (B2BUA+Routing).
    var occupiedGroup: (group: String, holder: String)?
    /// The callee's LRN when the number portability table mapped it (CDR, rn= to the vendor).
    var routingNumber: String?
    /// The number the customer's rate is looked up with: the LRN when routing on it.
    var ratedNumber: String?

    init(id: UInt64, customerInvite: ServerTransaction, mappingGateway: MappingGateway, account: String?,
         inbound: InboundCaller, calleeReceived: String, callerOut: String, calleeNumber: String,
         setupTime: Int64, setupMonotonic: UInt64, customer: DialogLeg, plan: FailoverPlan) {
        self.id = id
        self.customerInvite = customerInvite
        self.mappingGateway = mappingGateway
        self.account = account
        self.inbound = inbound
        self.calleeReceived = calleeReceived
        self.callerOut = callerOut
        self.calleeNumber = calleeNumber
        self.setupTime = setupTime
        self.setupMonotonic = setupMonotonic
        self.customer = customer
        self.plan = plan
    }

    var callID: String { customer.callID }
    /// Put on every log line about this call, so journald can be searched by it (`journalctl CALL_ID=` does
    /// not apply: the line carries it as `call-id=...`).
    var logMetadata: Logger.Metadata { ["call-id": .string(callID)] }

    // MARK: Phases

    var isRouting: Bool { if case .routing = state { return true } else { return false } }
    var isConfirmed: Bool { if case .confirmed = state { return true } else { return false } }
    var isEnded: Bool { if case .ended = state { return true } else { return false } }

    /// The attempt in progress while routing.
    var attempt: Attempt? {
        get { if case let .routing(routing) = state { return routing.attempt } else { return nil } }
        set {
            guard case var .routing(routing) = state else { return }
            routing.attempt = newValue
            state = .routing(routing)
        }
    }

    var cancelRequested: Bool {
        get { if case let .routing(routing) = state { return routing.cancelRequested } else { return false } }
        set {
            guard case var .routing(routing) = state else { return }
            routing.cancelRequested = newValue
            state = .routing(routing)
        }
    }

    var routing: Routing? {
        get { if case let .routing(routing) = state { return routing } else { return nil } }
        set {
            guard case .routing = state, let newValue else { return }
            state = .routing(newValue)
        }
    }

    var connected: Connected? {
        get { if case let .confirmed(connected) = state { return connected } else { return nil } }
        set {
            guard case .confirmed = state, let newValue else { return }
            state = .confirmed(newValue)
        }
    }

    /// Whether `candidate` is the vendor being tried now.
    func isTrying(_ candidate: RouteCandidate) -> Bool { attempt?.candidate == candidate }

    /// Starts an attempt (after the previous one was given up).
    func begin(_ attempt: Attempt) {
        self.attempt = attempt
        lastCandidate = attempt.candidate
    }

    /// Moves to `next`, cancelling every timer of the phase left behind.
    func leave(to next: State, cancelling cancel: (TimerID?) -> Void) {
        switch state {
        case let .routing(routing):
            cancel(routing.attempt?.timer)
            cancel(routing.unacknowledgedProvisional?.timer)
        case let .confirmed(connected): connected.timers.forEach(cancel)
        case .ended: break
        }
        state = next
    }
}