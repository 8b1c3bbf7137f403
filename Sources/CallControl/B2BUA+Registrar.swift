import SIPCore
import SIPStack
import Softswitch
import VOSModel

/// The registrar (RFC 3261 §10.3) for mapping gateways with password authentication, NAT
/// keep-alives to the bindings behind NAT (SS_SIP_NAT_KEEP_ALIVE_*), and calls to registered
/// users: an INVITE whose callee is a registered username goes to that user's binding, at the
/// address its REGISTER came from.
extension B2BUA {
    func handleRegister(_ request: SIPMessage, transaction: ServerTransaction) {
        // Geofencing's signalling check, before any challenge: a refused region learns nothing.
        if geofenceRefuses(source: transaction.peer.address.address) {
            logger.info("REGISTER from \(transaction.peer.address) refused by geofencing")
            return transaction.respond(status: 403, reason: "Forbidden", toTag: ids.token())
        }
        guard let gateway = authenticatedGateway(request, transaction: transaction, proxy: false),
              let username = gateway.credential?.username else { return }
        let now = loop.wallMilliseconds
        let toTag = ids.token()
        if request.isWildcardContact {
            guard request.expires == 0, request.headerValues("Contact").count == 1 else {
                return transaction.respond(status: 400, reason: "Bad Contact", toTag: toTag,
                                           headers: [("Warning", "399 vos \"Contact: * needs Expires: 0 and no other Contact\"")])
            }
            for change in registrations.removeAll(username: username) { subscriberState?.record(change) }
            logger.info("\(username) unregistered every contact (from \(transaction.peer.address))")
            return transaction.respond(status: 200, reason: "OK", toTag: toTag)
        }
        let contacts: [SIPNameAddress]
        do { contacts = try request.contacts() } catch {
            var warning = ""
            SIPNameAddress.writeQuoted(error.description, to: &warning)
            return transaction.respond(status: 400, reason: "Bad Contact", toTag: toTag, headers: [("Warning", "399 vos " + warning)])
        }
        let minimum = parameters.int(.registerMinExpires), maximum = parameters.int(.registerMaxExpires)
        // Min-Expires first, for every contact, so a refused REGISTER changes nothing (§10.3 step 7).
        var granted: [(contact: SIPNameAddress, seconds: Int)] = []
        for contact in contacts {
            let requested = contact.parameters["expires"].flatMap { Int($0) } ?? request.expires ?? maximum
            if requested > 0 && requested < minimum {
                return transaction.respond(status: 423, reason: "Interval Too Brief", toTag: toTag, headers: [("Min-Expires", String(minimum))])
            }
            granted.append((contact, min(requested, maximum)))
        }
        let source = transaction.peer.address
        let callID = request.callID ?? ""
        let sequence = (try? request.cseq().sequence) ?? 0
        let keepAlivePeriod = Int64(parameters.int(.natKeepAlivePeriod)) * 1000
        for (contact, seconds) in granted {
            let uri = contact.uri.description
            if seconds == 0 {
                if let change = registrations.remove(username: username, contact: uri) { subscriberState?.record(change) }
                continue
            }
            let binding = RegistrationBinding(
                gateway: gateway.name, username: username, contact: uri, receivedIP: source.address, receivedPort: Int(source.port),
                transport: transaction.peer.transport.rawValue.lowercased(), registeredAt: now, expiresAt: now + Int64(seconds) * 1000,
                callID: callID, cseq: sequence, userAgent: request.userAgent,
                behindNAT: Self.isBehindNAT(contact.uri, source: source))
            guard let change = registrations.save(binding, keepAlivePeriod: keepAlivePeriod) else {
                return transaction.respond(status: 403, reason: "Too Many Contacts", toTag: toTag,
                                           headers: [("Warning", "399 vos \"at most \(RegistrationTable.contactsPerUser) contacts per user\"")])
            }
            subscriberState?.record(change)
            logger.info("\(username) registered \(uri) from \(source) for \(seconds) s\(binding.behindNAT ? " (behind NAT)" : "")")
        }
        let headers: [(String, String)] = registrations.bindings(of: username, now: now).map { binding in
            ("Contact", "<\(binding.contact)>;expires=\(max(0, (binding.expiresAt - now) / 1000))")
        }
        transaction.respond(status: 200, reason: "OK", toTag: toTag, headers: headers)
    }

    /// A Contact that is not the address the REGISTER came from: a NAT rewrote the source.
    static func isBehindNAT(_ contact: SIPURI, source: SocketAddress) -> Bool {
        guard let host = try? IPAddress(parsing: contact.hostWithoutBrackets) else { return true }
        return host != source.address || (contact.port ?? 5060) != Int(source.port)
    }

    /// Starts the registrar's periodic work: expiry, and keep-alives every SEND_INTERVAL ms.
    public func startRegistrar(bindings: [RegistrationBinding]) {
        registrations = RegistrationTable(bindings: bindings, now: loop.wallMilliseconds)
        scheduleKeepAlives()
    }

    private func scheduleKeepAlives() {
        keepAliveTimer = loop.schedule(after: .milliseconds(parameters.int(.natKeepAliveSendInterval))) { [weak self] in
            self?.keepAliveTick()
        }
    }

    func keepAliveTick() {
        let now = loop.wallMilliseconds
        for change in registrations.expire(now: now) {
            if case let .removed(username, contact) = change { logger.info("\(username): binding \(contact) expired") }
            subscriberState?.record(change)
        }
        let message = parameters.text(.natKeepAliveMessage)
        if !message.isEmpty {
            let payload = Array(message.utf8)
            let due = registrations.dueKeepAlives(now: now, period: Int64(parameters.int(.natKeepAlivePeriod)) * 1000,
                                                  limit: parameters.int(.natKeepAliveSendOneTime))
            for binding in due where binding.transport == "udp" {
                layer.sendRaw(payload, to: Peer(address: Self.receivedAddress(binding), transport: .udp))
            }
        }
        scheduleKeepAlives()
    }

    /// The binding a call to `callee` goes to, when `callee` is a registered username.
    func registeredTarget(_ callee: String) -> RegistrationBinding? {
        guard snapshot.passwordGateways[callee] != nil else { return nil }
        return registrations.target(for: callee, now: loop.wallMilliseconds)
    }

    /// The routing gateway a call to a registered user is attempted through: the user's own
    /// mapping gateway's media, codec, DTMF and timer settings, at the binding's address.
    func registeredRoute(_ binding: RegistrationBinding, callee: String) -> RouteCandidate? {
        guard let owner = snapshot.mappingGateways[binding.gateway] else { return nil }
        var gateway = RoutingGateway(name: owner.name, address: SIPAddress(host: binding.receivedIP.description, port: binding.receivedPort,
                                                                          transport: binding.transport == "tcp" ? .tcp : .udp),
                                     prefixes: [callee])
        gateway.optionsCheck = false
        gateway.mediaProxy = owner.mediaProxy
        gateway.codecs = owner.codecs
        gateway.dtmf = owner.dtmf
        gateway.sessionTimer = owner.sessionTimer
        gateway.reliableProvisional = owner.reliableProvisional
        gateway.advertise = owner.advertise
        gateway.conversationLimit = owner.conversationLimit
        return RouteCandidate(gateway: gateway, matchedPrefix: callee, calleeOut: callee)
    }

    /// Where a call to a registered user is sent: the address its REGISTER came from.
    func registeredAddress(_ session: CallSession) -> SocketAddress? {
        session.registeredTarget.map(Self.receivedAddress)
    }

    /// The source a binding's REGISTER came from (its port was a UDP/TCP port, so it fits).
    static func receivedAddress(_ binding: RegistrationBinding) -> SocketAddress {
        SocketAddress(binding.receivedIP, port: UInt16(truncatingIfNeeded: binding.receivedPort))
    }

    /// Registrations as `vosctl registrations` shows them live.
    public var liveRegistrations: [RegistrationBinding] { registrations.all }
}
