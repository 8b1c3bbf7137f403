import Logging
import MediaControl
import SIPCore
import SIPStack
import Softswitch
import Synchronization
import VOSModel

/// The controller's transaction user: every request and response of every call passes here, on
/// the event loop thread. Split by concern: setup and vendor attempts (B2BUA+Setup), dialogs and
/// in-dialog requests (B2BUA+Dialog), ending calls and CDRs (B2BUA+Ending).
///
/// @unchecked Sendable: confined to the event loop thread. Other threads (status socket, media
/// events, configuration watcher) reach it only through `loop.execute`.
public final class B2BUA: TransactionUser, @unchecked Sendable {
    let loop: any EventLoop
    let layer: TransactionLayer
    let media: (any MediaBridge)?
    let ledger: any CallLedger
    var vendorCredit = VendorCreditCheck(isEnabled: false, remainMoneyLimit: .zero, balances: [:])
    let logger: Logger
    /// The address each peer is shown (per leg), and the port we put in Via and Contact.
    var addressBook: LegAddressBook
    let advertisedPort: Int
    var ids = IdentifierGenerator()
    private(set) var snapshot: ControllerSnapshot
    private(set) var reservationPolicy: ReservationPolicy
    /// The SS_SIP_SESSION_* parameters, read once per configuration, not per message.
    private(set) var sessionTimerSettings: SessionTimerSettings

    var sessionsByInvite: [ObjectIdentifier: CallSession] = [:]
    var dialogs: [String: (session: CallSession, side: Side)] = [:]
    var nextSessionID: UInt64 = 1
    var limiter = RateLimiterTable<String>()
    /// Caller number pools of routing gateways: which numbers are in use, across reloads.
    var callerPools = CallerPoolAllocator()
    var activeByMapping: [String: Int] = [:]
    var activeByVendor: [String: Int] = [:]
    let health: GatewayHealth
    var nextProbe: [String: UInt64] = [:]
    /// 403s by source address: what the firewall's ban feed reads.
    public internal(set) var forbiddenBySource: [String: UInt64] = [:]
    var callsByMediaSession: [String: CallSession] = [:]
    /// Reports attackers to the firewall's ban set (set by the controller before the loop runs).
    public var banFeed: BanFeed?
    /// Set by `beginDrain()` at a graceful stop: new calls get 503 (B2BUA+Drain).
    var draining = false
    /// Ended calls whose CDR waits for vos-mediad's final counters (a stop waits for them).
    public internal(set) var callsAwaitingCDR = 0
    /// Metrics and call-state webhooks (set by the controller before the loop runs).
    public var callObservers: [any CallEventObserver] = []
    /// Whether vos-mediad's legLatched events need the loop (geofencing on, B2BUA+Geofence): read
    /// by the controller's media-event thread.
    public let checksLatchedSources = Atomic<Bool>(false)
    /// Digest authentication, the registrar and suspensions (B2BUA+Authentication, +Registrar).
    var authenticator: DigestAuthenticator
    var authenticationFailures: AuthenticationFailures
    var registrations = RegistrationTable()
    /// Suspended mapping gateways: the store's (through the snapshot) and this process's own.
    var suspensions: [String: GatewaySuspension] = [:]
    /// Suspensions decided here whose store write has not landed yet: a reload must keep them.
    var suspensionsBeingStored: Set<String> = []
    /// Where bindings and suspensions are persisted (set by the controller before the loop runs).
    public var subscriberState: (any SubscriberStateStore)?
    var keepAliveTimer: TimerID?
    /// The dynamic number blacklist: counts, entries, what each call counted (B2BUA+DynamicBlacklist).
    var dynamicBlacklist = DynamicBlacklistState()
    /// Each routing gateway's windowed attempts, answers and talk time (B2BUA+Routing).
    let gatewayQuality: GatewayQuality
    /// Vendor lines in use per gateway group, by the calling account ("" without one).
    var activeByGroup: [String: [String: Int]] = [:]
    /// Monotonic time of the next monthly package charge run (B2BUA+Billing).
    var nextMonthlyCharges: UInt64 = 0

    enum Side { case customer, vendor }

    public init(loop: any EventLoop, layer: TransactionLayer, snapshot: ControllerSnapshot, media: (any MediaBridge)?,
                ledger: any CallLedger, addresses: AdvertisedAddressChoice,
                routeSource: @escaping @Sendable (IPAddress) -> IPAddress?, advertisedPort: Int, logger: Logger) {
        self.loop = loop
        self.layer = layer
        self.snapshot = snapshot
        self.reservationPolicy = ReservationPolicy(parameters: snapshot.parameters)
        self.sessionTimerSettings = SessionTimerSettings(parameters: snapshot.parameters)
        self.media = media
        self.ledger = ledger
        var choice = addresses
        choice.map = snapshot.parameters.advertisedAddresses
        self.addressBook = LegAddressBook(choice: choice, routeSource: routeSource)
        self.advertisedPort = advertisedPort
        self.logger = logger
        self.health = GatewayHealth()
        var secret = [UInt8](repeating: 0, count: 32)
        var random = SystemRandomNumberGenerator()
        for index in secret.indices { secret[index] = random.next() }
        self.authenticator = DigestAuthenticator(settings: DigestAuthenticator.Settings(parameters: snapshot.parameters), secret: secret)
        self.authenticationFailures = AuthenticationFailures(settings: AuthenticationFailures.Settings(parameters: snapshot.parameters))
        self.suspensions = snapshot.suspensions
        self.gatewayQuality = GatewayQuality(settings: GatewayQuality.Settings(parameters: snapshot.parameters))
        layer.user = self
    }

    /// A new configuration from the store: new calls use it, calls in progress keep theirs.
    public func reload(_ fresh: ControllerSnapshot) {
        snapshot = fresh
        reservationPolicy = ReservationPolicy(parameters: fresh.parameters)
        sessionTimerSettings = SessionTimerSettings(parameters: fresh.parameters)
        addressBook.reload(map: fresh.parameters.advertisedAddresses)
        reloadGeofence(fresh)
        reloadSubscriberSettings(fresh)
        reloadDynamicBlacklist(fresh)
        gatewayQuality.configure(GatewayQuality.Settings(parameters: fresh.parameters))
        refreshVendorCredit()
        for name in fresh.unresolvedVendors {
            logger.warning("routing gateway \(name): address cannot be resolved; it is skipped until it can")
        }
        for missing in fresh.numberScreening.missingReferences {
            logger.warning("\(missing) does not exist: a missing white list or allow group refuses every number, a missing black list or deny group none")
        }
    }

    var parameters: ParameterSet { snapshot.parameters }

    /// Our host as `peer` must see it: `gateway` is the owning gateway's `--advertise`.
    func localHost(for peer: Peer, gateway: IPAddress?) -> String {
        addressBook.sipHost(for: peer.address, gateway: gateway, now: loop.now)
    }

    func contact(host: String) -> String { "<sip:vos@\(host):\(advertisedPort)>" }

    func contact(for leg: DialogLeg) -> String { contact(host: leg.localHost) }

    func newVia(for leg: DialogLeg) -> SIPVia { newVia(leg.peer.transport, host: leg.localHost) }

    func newVia(_ transport: Peer.Transport, host: String) -> SIPVia {
        SIPVia(transport: transport.rawValue, host: host, port: advertisedPort, branch: ids.branch(), parameters: [SIPParameter(name: "rport")])
    }

    // MARK: TransactionUser

    public func handleRequest(_ request: SIPMessage, transaction: ServerTransaction) {
        guard let method = request.method else { return }
        if banFeed?.shouldSilence(request, from: transaction.peer.address, snapshot: snapshot) == true { return }
        if let toTag = try? request.to().tag, let callID = request.callID {
            if let dialog = dialogs[DialogLeg.key(callID: callID, localTag: toTag)] {
                handleInDialog(request, transaction: transaction, session: dialog.session, from: dialog.side)
            } else if method == "OPTIONS" {
                answerOptions(transaction)
            } else {
                transaction.respond(status: 481, reason: "Call/Transaction Does Not Exist")
            }
            return
        }
        switch method {
        case "INVITE": handleInitialInvite(request, transaction: transaction)
        case "CANCEL": handleCancel(request, transaction: transaction)
        case "OPTIONS": answerOptions(transaction)
        case "BYE", "UPDATE", "INFO", "PRACK", "NOTIFY": transaction.respond(status: 481, reason: "Call/Transaction Does Not Exist")
        case "REGISTER": handleRegister(request, transaction: transaction)
        case "SUBSCRIBE", "MESSAGE", "PUBLISH", "REFER":
            transaction.respond(status: 405, reason: "Method Not Allowed", headers: [("Allow", B2BUA.allowed)])
        default:
            transaction.respond(status: 501, reason: "Not Implemented", headers: [("Allow", B2BUA.allowed)])
        }
    }

    static let allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REGISTER"

    private func answerOptions(_ transaction: ServerTransaction) {
        let host = localHost(for: transaction.peer, gateway: nil)
        transaction.respond(status: 200, reason: "OK", toTag: ids.token(),
                            headers: [("Allow", B2BUA.allowed), ("Accept", "application/sdp"), ("Contact", contact(host: host))])
    }

    public func handleACK(_ ack: SIPMessage, from peer: Peer) {
        guard let callID = ack.callID, let toTag = try? ack.to().tag,
              let dialog = dialogs[DialogLeg.key(callID: callID, localTag: toTag)] else { return }
        if dialog.side == .customer {
            customerAcknowledged(dialog.session, ack)
        } else {
            acknowledgedReinvite(dialog.session, ack, from: .vendor)
        }
    }

    public func handleStrayResponse(_ response: SIPMessage, from peer: Peer) {
        // A 2xx retransmission for an INVITE we already answered: our ACK was lost, send it again.
        guard let status = response.statusCode, (200..<300).contains(status), let callID = response.callID,
              let cseq = try? response.cseq(), cseq.method == "INVITE", let fromTag = try? response.from().tag,
              let dialog = dialogs[DialogLeg.key(callID: callID, localTag: fromTag)], dialog.side == .vendor else { return }
        reacknowledgeVendor(dialog.session, sequence: cseq.sequence)
    }

    /// The vendor's 2xx again: the same ACK again. A delayed offer's ACK still waits for the
    /// customer's answer; the vendor keeps retransmitting until it comes.
    func reacknowledgeVendor(_ session: CallSession, sequence: UInt32) {
        guard let vendor = session.vendor, session.connected?.vendorAckAwaitingAnswer == nil else { return }
        if let sent = session.connected?.vendorAck { return layer.sendStateless(sent, to: vendor.peer) }
        let ack = vendor.request("ACK", sequence: sequence, via: newVia(for: vendor), contact: nil)
        layer.sendStateless(withContentLength(ack), to: vendor.peer)
    }

    func withContentLength(_ message: SIPMessage) -> SIPMessage {
        var message = message
        if !message.hasHeader("Content-Length") { message.appendHeader("Content-Length", String(message.body.count)) }
        return message
    }

    func countForbidden(_ source: SocketAddress) {
        forbiddenBySource[source.ip, default: 0] += 1
        banFeed?.forbidden(source, snapshot: snapshot)
    }
}
