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
    enum State: Equatable {
        /// Trying vendors; the customer has had at most provisional responses.
        case routing
        /// Connected: a 2xx went to the customer.
        case confirmed
        /// Finished; waiting only for BYE responses.
        case ended
    }

    let id: UInt64
    let customerInvite: ServerTransaction
    let mappingGateway: MappingGateway
    let account: String?
    let callerReceived: String
    let calleeReceived: String
    let callerOut: String
    let calleeNumber: String
    let setupTime: Int64
    let setupMonotonic: UInt64
    var state: State = .routing

    /// Customer side: the tag we put in To, the customer's identity, where to reach it.
    var customer: DialogLeg
    /// Vendor side; set when an attempt starts, complete (remote tag, target) once it answers.
    var vendor: DialogLeg?
    var plan: FailoverPlan
    var currentCandidate: RouteCandidate?
    var vendorInvite: ClientTransaction?
    var vendorInviteRequest: SIPMessage?
    var vendorProvisionalSeen = false
    var cancelRequested = false
    var attemptTimer: TimerID?
    var sessionTimer: TimerID?

    /// The customer's SDP offer as received.
    var customerOffer: SDPSession?
    var mediaSession: String?
    /// The relay's two legs as vos-mediad bound them (the wildcard address, or one address).
    var relayLocal: (customer: MediaEndpoint, vendor: MediaEndpoint)?
    /// Where each side is told to send its audio: the relay leg at the address facing that side.
    var customerRelayEndpoint: MediaEndpoint?
    var vendorRelayEndpoint: MediaEndpoint?
    var callerCodec: String?
    var calleeCodec: String?

    var ringingTime: Int64?
    var answerTime: Int64?
    var answerMonotonic: UInt64?
    /// 2xx sent to the customer, retransmitted until its ACK (RFC 3261 §13.3.1.4).
    var pendingCustomer2xx: SIPMessage?
    var customer2xxTimer: TimerID?
    var customer2xxInterval: Duration = .zero
    var customer2xxDeadline: UInt64 = 0
    /// The ledger's key while the call holds a credit reservation (billed calls only).
    var billingKey: String?
    var deadlineTimer: TimerID?
    /// Counts against the routing gateway's line limit while set.
    var occupiedVendor: String?

    init(id: UInt64, customerInvite: ServerTransaction, mappingGateway: MappingGateway, account: String?,
         callerReceived: String, calleeReceived: String, callerOut: String, calleeNumber: String,
         setupTime: Int64, setupMonotonic: UInt64, customer: DialogLeg, plan: FailoverPlan) {
        self.id = id
        self.customerInvite = customerInvite
        self.mappingGateway = mappingGateway
        self.account = account
        self.callerReceived = callerReceived
        self.calleeReceived = calleeReceived
        self.callerOut = callerOut
        self.calleeNumber = calleeNumber
        self.setupTime = setupTime
        self.setupMonotonic = setupMonotonic
        self.customer = customer
        self.plan = plan
    }

    var callID: String { customer.callID }
}
