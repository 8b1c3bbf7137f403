import MediaControl
import SIPCore
import SIPStack
import Softswitch
import VOSModel

/// A new call: who is calling, may they, which vendors, and each vendor attempt.
extension B2BUA {
    func handleInitialInvite(_ request: SIPMessage, transaction: ServerTransaction) {
        let source = transaction.peer.address
        let identified = snapshot.callers.gateway(source: source.address, port: Int(source.port))
        // No gateway claims the address: a password gateway's user may be calling (407 first).
        if identified == nil && snapshot.passwordGateways.isEmpty {
            countForbidden(source)
            transaction.respond(status: 403, reason: "Forbidden")
            return
        }
        guard let gateway = identified ?? authenticatedGateway(request, transaction: transaction, proxy: true) else { return }
        if draining { return refuseWhileDraining(transaction) }
        if let hops = request.maxForwards, hops == 0 {
            transaction.respond(status: 483, reason: "Too Many Hops")
            return
        }
        let customerTimer: LegSessionTimer?
        switch customerSessionTimer(request, gateway: gateway) {
        case let .success(timer): customerTimer = timer
        case let .failure(refusal):
            transaction.respond(status: refusal.status, reason: refusal.reason, headers: refusal.headers)
            return
        }
        if let refusal = reliableProvisionalRefusal(request, gateway: gateway) {
            transaction.respond(status: refusal.status, reason: refusal.reason, headers: refusal.headers)
            return
        }
        transaction.respond(status: 100, reason: "Trying")

        let callee = request.requestURI?.decodedUser ?? ""
        let fromParty = try? request.from()
        let inbound = InboundCaller(receivedIdentity(request, from: fromParty, gateway: gateway), gateway: gateway)
        let callerReceived = inbound.number
        // The mapping gateway's dial plans; a denied number keeps its received form for the CDR.
        var deniedBy: DialPlan.Rule?
        let calleeNumber: String
        switch gateway.calleeRewrite.apply(to: callee) {
        case let .number(number): calleeNumber = number
        case let .denied(rule): calleeNumber = callee; deniedBy = rule
        }
        let callerOut: String
        switch gateway.callerRewrite.apply(to: callerReceived) {
        case let .number(number): callerOut = number
        case let .denied(rule): callerOut = callerReceived; deniedBy = deniedBy ?? rule
        }
        let customerLeg = DialogLeg(
            callID: request.callID ?? ids.token(), localTag: ids.token(), remoteTag: fromParty?.tag,
            localParty: "", remoteParty: request.firstHeaderValue("From") ?? "",
            remoteTarget: (try? request.contacts().first?.uri) ?? request.requestURI ?? SIPURI(host: source.ip),
            peer: transaction.peer, localSequence: 0,
            localHost: localHost(for: transaction.peer, gateway: gateway.advertise))
        var leg = customerLeg
        leg.localParty = (request.firstHeaderValue("To") ?? "") + ";tag=" + customerLeg.localTag

        // A registered user is reached at its binding, before any vendor.
        let registered = registeredTarget(calleeNumber)
        // Gateways whose filters or number lists refuse the numbers are no candidates (all of them: 403 Blacklisted).
        let decision = registered.flatMap { registeredRoute($0, callee: calleeNumber) }.map {
            RouteDecision(plan: RoutePlan(candidates: [$0]), routingNumber: nil, ratedNumber: calleeNumber, lrnRefused: false)
        } ?? decideRoute(callee: calleeNumber, caller: callerOut, account: gateway.account, at: loop.wallMilliseconds)
        let route = decision.plan
        let session = CallSession(
            id: nextSessionID, customerInvite: transaction, mappingGateway: gateway, account: gateway.account,
            inbound: inbound, calleeReceived: callee, callerOut: callerOut, calleeNumber: calleeNumber,
            setupTime: loop.wallMilliseconds, setupMonotonic: loop.now, customer: leg,
            plan: FailoverPlan(route: route, switchLimit: parameters.int(.gatewaySwitchLimit)))
        nextSessionID += 1
        if !callObservers.isEmpty {
            let started = CallStartedEvent(callID: session.callID, caller: callerReceived, callee: callee,
                                           mappingGateway: gateway.name, account: gateway.account, setupTime: session.setupTime)
            for observer in callObservers { observer.callStarted(started) }
        }
        session.registeredTarget = registered
        session.routingNumber = decision.routingNumber
        session.ratedNumber = decision.ratedNumber
        session.customerSessionTimer = customerTimer
        session.customerSupportsTimer = request.supported.contains("timer") || request.require.contains("timer")
        session.customerReliable = customerGetsReliableProvisionals(request, gateway: gateway)
        session.nextRSeq = UInt32.random(in: 1...0x7FFF_FFFF)
        if let refusal = signallingGeofenceRefusal(session) { return rejectBeforeRouting(session, refusal) }
        if decision.lrnRefused {
            logger.info("\(calleeNumber) is not in the LRN table (SS_LRN_FAILURE_ACTION 1)", metadata: session.logMetadata)
            return rejectBeforeRouting(session, Refusal(reason: .lrnNotFound, code: 404))
        }
        if let rule = deniedBy {
            logger.info("denied by mapping gateway \(gateway.name)'s dial plan rule \(rule)", metadata: session.logMetadata)
            return rejectBeforeRouting(session, Refusal(reason: .dialPlanDenied, code: 403))
        }

        if let refusal = admissionRefusal(session, gateway: gateway, caller: callerReceived, callee: callee) {
            rejectBeforeRouting(session, refusal)
            return
        }
        sessionsByInvite[ObjectIdentifier(transaction)] = session
        dialogs[leg.key] = (session, .customer)
        activeByMapping[gateway.name, default: 0] += 1
        if !request.body.isEmpty, request.contentType?.lowercased().hasPrefix("application/sdp") ?? true {
            session.customerOffer = try? SDPSession(parsing: request.body)
            session.callerCodec = session.customerOffer.flatMap { SDPRelay.audioCodecs(of: $0).first }
        }
        if refuseForbiddenOffer(session) { return }
        // Last, because it reserves credit: account state, concurrency and balance.
        authorizeBilling(session)
    }

    typealias Refusal = Admission.Refusal

    /// Limits and lists, in the order an operator reads them in the CDR: CPS first (cheapest to
    /// refuse), then concurrency and number lists. Credit comes after (`authorizeBilling`).
    private func admissionRefusal(_ session: CallSession, gateway: MappingGateway, caller: String, callee: String) -> Refusal? {
        let now = loop.now
        let call = Admission.Call(gateway: gateway, caller: caller, calleeReceived: callee, callee: session.calleeNumber,
                                  activeCalls: activeByMapping[gateway.name, default: 0], callerAfterPlan: session.callerOut)
        let refused = Admission.refusal(call, screen: snapshot.numberScreening.mapping[gateway.name], globalCPS: {
            limiter.admit("global", rate: parameters.int(.maxCPS), now: now) ? .admitted : .exceeded(retryAfter: limiter.retryAfter("global"))
        }, gatewayCPS: {
            limiter.admit("m:" + gateway.name, rate: gateway.cpsLimit, now: now) ? .admitted : .exceeded(retryAfter: limiter.retryAfter("m:" + gateway.name))
        })
        // The dynamic blacklist last: it counts the call, which only a call let in may do.
        return refused ?? dynamicBlacklistRefusal(session)
    }

    func gatewayStatus(_ name: String) -> GatewayStatus {
        let gateway = snapshot.routingGatewaysByName[name]
        return GatewayStatus(
            activeCalls: activeByVendor[name, default: 0],
            // A registered user's own gateway (B2BUA+Registrar) has no vendor address: its binding is it.
            online: snapshot.vendorAddresses[name] != nil ? health.isOnline(name) : snapshot.mappingGateways[name] != nil,
            withinCPS: limiter.wouldAdmit("r:" + name, rate: gateway?.cpsLimit ?? 0, now: loop.now),
            vendorCreditOK: gateway.map(vendorCredit.allows) ?? true)
    }

    private func rejectBeforeRouting(_ session: CallSession, _ refusal: Refusal) {
        var headers: [(String, String)] = []
        if let retry = refusal.retryAfter { headers.append(("Retry-After", String(retry))) }
        session.customerInvite.respond(status: refusal.code, toTag: session.customer.localTag, headers: headers)
        session.leave(to: .ended, cancelling: loop.cancel)
        for observer in callObservers { observer.callEnded(callID: session.callID, mappingGateway: session.mappingGateway.name, routingGateway: nil) }
        recordCDR(session, reason: refusal.reason, sipCode: refusal.code, hangup: .system, media: nil)
    }

    /// Asks the plan for the next vendor and starts it, or ends the call with the plan's verdict.
    func tryNextVendor(_ session: CallSession) {
        guard session.isRouting, !session.cancelRequested else { return }
        let account = session.account
        switch session.plan.next(status: { self.gatewayStatus($0, account: account) }) {
        case let .fail(reason, code):
            failRouting(session, reason: reason, code: code)
        case let .tryGateway(candidate):
            startAttempt(session, candidate)
        }
    }

    private func failRouting(_ session: CallSession, reason: EndReason, code: Int) {
        var headers: [(String, String)] = []
        var phrase: String?
        if let failure = session.lastVendorFailure, failure.statusCode == code {
            // The vendor's own word on the failure (RFC 3326 Reason, RFC 3261 Retry-After) reaches the caller.
            for name in ["Reason", "Retry-After"] {
                for value in failure.headerValues(name) { headers.append((name, value)) }
            }
            phrase = failure.reasonPhrase
        } else if code == 503 && [.allGatewayBusy, .rateLimited].contains(reason) {
            headers.append(("Retry-After", "5"))
        }
        session.customerInvite.respond(status: code, reason: phrase, toTag: session.customer.localTag, headers: headers)
        finishCall(session, reason: reason, sipCode: code, hangup: .system)
    }

    private func mediaMode(for candidate: RouteCandidate, session: CallSession) -> MediaProxyMode {
        candidate.gateway.mediaProxy ?? session.mappingGateway.mediaProxy
            ?? MediaProxyMode(rawValue: parameters.int(.mediaProxyMode)) ?? .mustOn
    }

    /// One attempt of `candidate`: at its configured address, or at `redirect` (a 3xx Contact it followed).
    private func startAttempt(_ session: CallSession, _ candidate: RouteCandidate, redirect: SocketAddress? = nil) {
        if redirect == nil, dynamicBlacklistSkipsAttempt(session, candidate) { return }
        guard let vendorAddress = redirect ?? registeredAddress(session) ?? snapshot.vendorAddresses[candidate.gateway.name] else {
            session.plan.record(.response(503), for: candidate)
            return tryNextVendor(session)
        }
        _ = limiter.admit("r:" + candidate.gateway.name, rate: candidate.gateway.cpsLimit, now: loop.now)
        health.countCall(candidate.gateway.name, now: loop.now)
        for observer in callObservers { observer.vendorAttempted(callID: session.callID, routingGateway: candidate.gateway.name) }

        let mode = mediaMode(for: candidate, session: session)
        session.attemptOffer = nil
        var needsProcessing = false
        switch vendorOffer(session, for: candidate) {
        case let .failure(refusal)?:
            return skipForCodecs(session, candidate, refusal.reason)
        case let .success(offer)?:
            session.attemptOffer = offer
            needsProcessing = Self.offerNeedsProcessing(offer, caller: session.customerMedia)
            if offer.transcoding && (mode == .off || session.mediaRefused) {
                return skipForCodecs(session, candidate, "transcoding for '\(candidate.gateway.name)' needs the media relay, which is "
                                     + (mode == .off ? "off (SS_MEDIAPROXYMODE / --media-proxy)" : "unavailable"))
            }
        case nil:
            break
        }
        // SS_MEDIAPROXYMODE 2 relays a NATed caller, and calls whose media must be converted.
        let wantsRelay = mode == .on || mode == .mustOn
            || (mode == .auto && (needsProcessing || SDPRelay.looksNATed(session.customerOffer.flatMap(SDPRelay.audioEndpoint),
                                                                         signallingSource: session.customer.peer.address.ip)))
        // The relay session is created once per call (a delayed offer too: the vendor's offer comes
        // in its 2xx), off the loop: the call waits for its ports in its own state.
        if wantsRelay && session.mediaSession == nil && !session.mediaRefused, let media {
            let remote = session.customerOffer.flatMap(SDPRelay.audioEndpoint)
            let formats = session.attemptOffer.flatMap { $0.transcoding ? provisionalFormats(session, offer: $0) : nil }
            session.announcedFormats = formats
            media.createSession(tag: session.callID, customerRemote: remote, formats: formats) { [loop] result in
                loop.execute { [unowned self] in
                    self.mediaCreated(session, result, candidate: candidate, vendorAddress: vendorAddress, mode: mode)
                }
            }
            return
        }
        if wantsRelay && session.mediaSession == nil && mode == .mustOn { return failForMedia(session) }
        sendVendorInvite(session, candidate, vendorAddress: vendorAddress, relayed: wantsRelay)
    }

    /// vos-mediad's answer to the call's create: on with the attempt, or 503 MediaUnavailable
    /// where the relay is a must. A session for a call that ended meanwhile is released at once.
    private func mediaCreated(_ session: CallSession, _ result: Result<CreatedMediaSession, MediaControlFailure>,
                              candidate: RouteCandidate, vendorAddress: SocketAddress, mode: MediaProxyMode) {
        switch result {
        case let .success(created):
            guard session.isRouting, !session.cancelRequested else {
                media?.deleteSession(created.session) { _ in }
                return
            }
            session.mediaSession = created.session
            session.relayLocal = (created.customerSide, created.vendorSide)
            session.customerRelayEndpoint = addressBook.mediaEndpoint(
                created.customerSide, for: session.customer.peer.address, gateway: session.mappingGateway.advertise, now: loop.now)
            callsByMediaSession[created.session] = session
        case let .failure(error):
            logger.error("vos-mediad refused a media session: \(error)", metadata: session.logMetadata)
            session.mediaRefused = true
            guard session.isRouting, !session.cancelRequested else { return }
            if mode == .mustOn { return failForMedia(session) }
        }
        sendVendorInvite(session, candidate, vendorAddress: vendorAddress, relayed: true)
    }

    /// This vendor cannot take the caller's codecs: noted as its attempt (488, the reason), and
    /// the next vendor is tried; when none is left the caller gets 488 with CodecMismatch.
    private func skipForCodecs(_ session: CallSession, _ candidate: RouteCandidate, _ reason: String) {
        logger.info("\(reason)", metadata: session.logMetadata)
        session.plan.record(.codecMismatch(reason), for: candidate)
        tryNextVendor(session)
    }

    private func failForMedia(_ session: CallSession) {
        session.customerInvite.respond(status: 503, toTag: session.customer.localTag, headers: [("Retry-After", "5")])
        finishCall(session, reason: .mediaUnavailable, sipCode: 503, hangup: .system)
    }

    /// The INVITE of one vendor attempt, with the customer's offer pointed at the relay when relayed.
    private func sendVendorInvite(_ session: CallSession, _ candidate: RouteCandidate, vendorAddress: SocketAddress, relayed wantsRelay: Bool) {
        var body = session.customerOffer.map { $0.serialized() } ?? []
        // Each vendor may sit on another network: the relay is shown at the address facing this one.
        session.vendorRelayEndpoint = session.relayLocal.map {
            addressBook.mediaEndpoint($0.vendor, for: vendorAddress, gateway: candidate.gateway.advertise, now: loop.now)
        }
        session.codecPlan = nil
        session.vendorOfferSent = nil
        if let planned = session.attemptOffer, let offer = session.customerOffer {
            if wantsRelay, let relay = session.vendorRelayEndpoint {
                body = SDPRelay.pointing(Self.sdp(offer, offering: planned.formats), at: relay).serialized()
                session.vendorOfferSent = planned
                if planned.transcoding { announceProvisionalFormats(session, offer: planned) }
            } else if planned.transcoding {
                return skipForCodecs(session, candidate, "transcoding for '\(candidate.gateway.name)' needs the media relay, which is unavailable")
            } else {
                // Not relayed: the endpoints exchange media directly, so only the codec list
                // narrows; telephone-event keeps the caller's own payload type.
                let events = session.customerMedia?.formats.filter(\.isTelephoneEvent) ?? []
                body = Self.sdp(offer, offering: planned.audio + events).serialized()
            }
        } else if wantsRelay, let offer = session.customerOffer, let relay = session.vendorRelayEndpoint {
            body = SDPRelay.pointing(offer, at: relay).serialized()
        }

        let calleeOut = candidate.calleeOut
        var callerOut = candidate.callerOut ?? session.callerOut
        if let pool = candidate.gateway.callerPool {
            switch callerPools.lease(gateway: candidate.gateway.name, pool: pool, order: CallerPoolAllocator.Order(parameters: parameters)) {
            case let .leased(lease):
                callerOut = lease.number
                session.poolLease = lease
            case .exhausted:
                logger.info("routing gateway \(candidate.gateway.name)'s caller pool is exhausted", metadata: session.logMetadata)
                session.customerInvite.respond(status: 503, toTag: session.customer.localTag, headers: [("Retry-After", "5")])
                return finishCall(session, reason: .callerPoolExhausted, sipCode: 503, hangup: .system)
            }
        }
        session.callerSent = callerOut
        let vendorHost = vendorAddress.host
        let signalling = candidate.gateway.signalling
        let localTag = ids.token()
        let vendorPeer = Peer(address: vendorAddress, transport: Peer.Transport(candidate.gateway.address.transport))
        let ourHost = localHost(for: vendorPeer, gateway: candidate.gateway.advertise)
        var vendor = DialogLeg(
            callID: ids.token() + "@" + ourHost, localTag: localTag, remoteTag: nil,
            localParty: "<sip:\(callerOut)@\(ourHost)>;tag=\(localTag)",
            remoteParty: "<sip:\(calleeOut)@\(vendorHost):\(vendorAddress.port)\(signalling.userPhone ? ";user=phone" : "")>",
            remoteTarget: session.registeredTarget.flatMap { try? SIPURI(parsing: $0.contact) }
                ?? SIPURI(user: session.routingNumber.map { "\(calleeOut);rn=\($0);npdi" } ?? calleeOut, host: vendorHost, port: Int(vendorAddress.port),
                          parameters: signalling.userPhone ? SIPParameters([SIPParameter(name: "user", value: "phone")]) : SIPParameters()),
            peer: vendorPeer, localSequence: 0, localHost: ourHost)
        for observer in callObservers { observer.vendorLegStarted(callID: session.callID, legCallID: vendor.callID) }
        var invite = vendor.request("INVITE", via: newVia(for: vendor), contact: contact(for: vendor))
        let customerHops = session.customerInvite.request.maxForwards ?? 70
        invite.setHeader("Max-Forwards", String(max(1, min(70, customerHops - 1))))
        invite.appendHeader("Allow", B2BUA.allowed)
        for header in OutboundIdentity.headers(for: candidate.gateway, caller: session.inbound, callerOut: callerOut, host: ourHost) {
            invite.appendHeader(header.name, header.value)
        }
        let offeredExpires = candidate.gateway.usesSessionTimer ? sessionTimerSettings.offered : nil
        if let offeredExpires { offerSessionTimer(&invite, expires: offeredExpires) }
        offerReliableProvisionals(&invite, gateway: candidate.gateway)
        // The customer's other headers the gateway takes, then the operator's own for it.
        for header in session.customerInvite.request.headers where signalling.forwards(header.name) {
            invite.headers.append(header)
        }
        for line in signalling.headers {
            guard let colon = line.firstIndex(of: ":") else { continue }
            invite.appendHeader(line[..<colon].trimmingSpaces, line[line.index(after: colon)...].trimmingSpaces)
        }
        if body.isEmpty { invite.appendHeader("Content-Length", "0") } else { invite.setBody(body, contentType: "application/sdp") }

        session.vendor = vendor
        loop.cancel(session.attempt?.timer)
        session.begin(CallSession.Attempt(candidate: candidate, request: invite, offeredSessionExpires: offeredExpires))
        dialogs[vendor.key] = (session, .vendor)
        activeByVendor[candidate.gateway.name, default: 0] += 1
        session.occupiedVendor = candidate.gateway.name
        occupyGroupLine(session, gateway: candidate.gateway)
        sendAttemptInvite(session, candidate: candidate, vendorKey: vendor.key, to: vendor.peer)
    }

    /// Sends the current attempt's INVITE in a new client transaction and arms
    /// SS_SIP_TIMEOUT_INVITE for it (a first INVITE, or its retry after a 422).
    func sendAttemptInvite(_ session: CallSession, candidate: RouteCandidate, vendorKey: String, to peer: Peer) {
        guard let invite = session.attempt?.request else { return }
        session.attempt?.transaction = layer.send(invite, to: peer) { [unowned self] event in
            self.vendorInviteEvent(session, candidate: candidate, vendorKey: vendorKey, event)
        }
        session.attempt?.timer = loop.schedule(after: Duration.seconds(parameters.int(.sipTimeoutInvite))) { [unowned self] in
            guard let attempt = session.attempt, attempt.candidate == candidate, !attempt.provisionalSeen else { return }
            attempt.transaction?.abandon()
            self.attemptFailed(session, candidate: candidate, vendorKey: vendorKey, outcome: .inviteTimeout)
        }
    }

    func vendorInviteEvent(_ session: CallSession, candidate: RouteCandidate, vendorKey: String, _ event: ClientTransaction.Event) {
        if geofenceRefusesVendorMedia(session, candidate: candidate, event) { return }
        switch event {
        case let .provisional(response):
            vendorProvisional(session, candidate: candidate, response)
        case let .final(response):
            guard let status = response.statusCode else { return }
            if (200..<300).contains(status) {
                vendorAnswered(session, candidate: candidate, response)
            } else if status == 422, retryAfterSessionIntervalTooSmall(session, candidate: candidate, vendorKey: vendorKey, response) {
                return
            } else if (300..<400).contains(status), candidate.gateway.signalling.redirects == .follow,
                      session.isTrying(candidate), session.redirectsFollowed < 3, let target = redirectTarget(response) {
                followRedirect(session, candidate: candidate, vendorKey: vendorKey, status: status, to: target)
            } else {
                if session.isTrying(candidate) { session.lastVendorFailure = response }
                attemptFailed(session, candidate: candidate, vendorKey: vendorKey, outcome: .response(status))
            }
        case .timeout:
            attemptFailed(session, candidate: candidate, vendorKey: vendorKey, outcome: .inviteTimeout)
        }
    }

    private func vendorProvisional(_ session: CallSession, candidate: RouteCandidate, _ response: SIPMessage) {
        guard session.isTrying(candidate), let status = response.statusCode else { return }
        guard acknowledgeVendorProvisional(session, response), var attempt = session.attempt else { return }
        if !attempt.provisionalSeen {
            attempt.provisionalSeen = true
            loop.cancel(attempt.timer)
            attempt.timer = loop.schedule(after: Duration.seconds(parameters.int(.sipTimeoutRinging))) { [unowned self] in
                guard session.isTrying(candidate) else { return }
                self.sendCancel(session)
                session.plan.record(.ringingTimeout, for: candidate)
                self.recordFailedAttempt(candidate.gateway.name, outcome: .ringingTimeout)
                self.releaseVendorLine(session)
                // Its 487 must not count as a second outcome of this attempt.
                session.attempt = nil
                self.tryNextVendor(session)
            }
            session.attempt = attempt
        }
        guard status > 100, !session.cancelRequested else { return }
        // A tagged 18x opens the vendor's early dialog: UPDATE (RFC 3311) may now cross it.
        if var vendor = session.vendor, vendor.remoteTag == nil, let tag = try? response.to().tag {
            vendor.remoteTag = tag
            vendor.remoteParty = response.firstHeaderValue("To") ?? vendor.remoteParty
            if let target = try? response.contacts().first?.uri { vendor.remoteTarget = target }
            session.vendor = vendor
        }
        if session.ringingTime == nil { session.ringingTime = loop.wallMilliseconds }
        var relayed = SIPMessage.response(to: session.customerInvite.request, status: status,
                                          reason: response.reasonPhrase, toTag: session.customer.localTag)
        relayed.appendHeader("Contact", contact(for: session.customer))
        attachSDP(from: response, to: &relayed, session: session, fromVendor: true)
        sendCustomerProvisional(session, relayed)
    }

    /// Copies an SDP body across, pointed at the relay when the call is relayed.
    func attachSDP(from source: SIPMessage, to target: inout SIPMessage, session: CallSession, fromVendor: Bool) {
        guard !source.body.isEmpty else { return }
        guard source.contentType?.lowercased().hasPrefix("application/sdp") ?? false else {
            target.setBody(source.body, contentType: source.contentType)
            return
        }
        guard var sdp = try? SDPSession(parsing: source.body) else {
            target.setBody(source.body, contentType: source.contentType)
            return
        }
        let received = sdp
        negotiateCodecs(&sdp, session: session, fromVendor: fromVendor)
        if session.codecPlan == nil {
            if fromVendor { session.calleeCodec = SDPRelay.audioCodecs(of: sdp).first ?? session.calleeCodec } else {
                session.callerCodec = SDPRelay.audioCodecs(of: sdp).first ?? session.callerCodec
            }
        }
        guard let mediaSession = session.mediaSession, let media,
              let relay = fromVendor ? session.customerRelayEndpoint : session.vendorRelayEndpoint else {
            target.setBody(sdp == received ? source.body : sdp.serialized(), contentType: "application/sdp")
            return
        }
        if let remote = SDPRelay.audioEndpoint(of: sdp) {
            media.update(session: mediaSession, leg: fromVendor ? 1 : 0, remote: remote, media: nil)
        }
        target.setBody(SDPRelay.pointing(sdp, at: relay).serialized(), contentType: "application/sdp")
    }

    private func vendorAnswered(_ session: CallSession, candidate: RouteCandidate, _ response: SIPMessage) {
        // The vendor repeating its 2xx: our ACK was lost (or is waiting for a delayed answer).
        if session.connected?.candidate == candidate { return reacknowledgeVendor(session, sequence: (try? response.cseq().sequence) ?? 1) }
        guard var vendor = session.vendor, session.lastCandidate == candidate else { return }
        loop.cancel(session.attempt?.timer)
        vendor.remoteTag = try? response.to().tag
        vendor.remoteParty = response.firstHeaderValue("To") ?? vendor.remoteParty
        if let target = try? response.contacts().first?.uri { vendor.remoteTarget = target }
        session.vendor = vendor
        let sequence = (try? response.cseq().sequence) ?? 1
        let offerToVendor = session.attempt?.request.body ?? []
        // Delayed offer: the answer to the vendor's offer is in the customer's ACK, so ours waits for it.
        let awaitingAnswer = session.isTrying(candidate) && !session.cancelRequested && offerToVendor.isEmpty && !response.body.isEmpty
        if !awaitingAnswer {
            layer.sendStateless(withContentLength(vendor.request("ACK", sequence: sequence, via: newVia(for: vendor), contact: nil)), to: vendor.peer)
        }
        guard session.isTrying(candidate), !session.cancelRequested else {
            // The customer gave up while the vendor was answering: hang up the vendor side.
            sendBye(to: .vendor, session)
            releaseVendorLine(session)
            return
        }
        session.leave(to: .confirmed(CallSession.Connected(candidate: candidate)), cancelling: loop.cancel)
        if awaitingAnswer { session.connected?.vendorAckAwaitingAnswer = sequence }
        session.answerTime = loop.wallMilliseconds
        session.answerMonotonic = loop.now
        if session.ringingTime == nil { session.ringingTime = session.answerTime }
        var answer = SIPMessage.response(to: session.customerInvite.request, status: 200, reason: "OK", toTag: session.customer.localTag)
        answer.appendHeader("Contact", contact(for: session.customer))
        answer.appendHeader("Allow", B2BUA.allowed)
        if let timer = session.customerSessionTimer {
            if session.customerSupportsTimer { answer.appendHeader("Require", "timer") }
            answer.appendHeader("Session-Expires", "\(timer.interval);refresher=\(timer.refresherParameter(weAreUAC: false))")
        }
        attachSDP(from: response, to: &answer, session: session, fromVendor: true)
        session.customerInvite.respond(answer)
        session.connected?.customerAllowsUpdate = session.customerInvite.request.headerValues("Allow").joined(separator: ",").uppercased().contains("UPDATE")
        session.connected?.vendorAllowsUpdate = response.headerValues("Allow").joined(separator: ",").uppercased().contains("UPDATE")
        session.connected?.sdpToCustomer = answer.body
        session.connected?.sdpToVendor = offerToVendor
        startCustomer2xxRetransmission(session, answer: answer)
        startSessionTimers(session, vendorAnswer: response, candidate: candidate)
        billingAnswered(session, candidate: candidate)
        if !callObservers.isEmpty, let answerTime = session.answerTime {
            let answered = CallAnsweredEvent(
                callID: session.callID, caller: session.callerReceived, callee: session.calleeReceived,
                mappingGateway: session.mappingGateway.name, routingGateway: candidate.gateway.name, account: session.account,
                setupTime: session.setupTime, answerTime: answerTime, ringingTime: session.ringingTime,
                callerCodec: session.callerCodec, calleeCodec: session.calleeCodec)
            for observer in callObservers { observer.callAnswered(answered) }
        }
        // The shorter of the two gateways' limits (0: none).
        let limits = [session.mappingGateway.conversationLimit, candidate.gateway.conversationLimit].filter { $0 > 0 }
        if let limit = limits.min() {
            session.connected?.conversationTimer = loop.schedule(after: Duration.seconds(limit)) { [unowned self] in
                self.hangUpBoth(session, reason: .conversationLimit)
            }
        }
    }

    func attemptFailed(_ session: CallSession, candidate: RouteCandidate, vendorKey: String, outcome: FailoverPlan.AttemptOutcome) {
        if dialogs[vendorKey]?.session === session { dialogs[vendorKey] = nil }
        guard session.lastCandidate == candidate else { return }
        releaseVendorLine(session)
        guard session.isTrying(candidate) else { return }
        loop.cancel(session.attempt?.timer)
        session.attempt = nil
        session.plan.record(outcome, for: candidate)
        recordFailedAttempt(candidate.gateway.name, outcome: outcome)
        if session.cancelRequested { return }
        tryNextVendor(session)
    }

    /// The first Contact of a 3xx, when it names an IP address (no DNS on the SIP loop).
    private func redirectTarget(_ response: SIPMessage) -> SocketAddress? {
        guard let uri = try? response.contacts().first?.uri else { return nil }
        return try? SocketAddress(ip: uri.hostWithoutBrackets, port: uri.port ?? 5060)
    }

    /// A vendor redirected the call and its gateway follows redirects: the attempt ends (and is in
    /// the CDR with its 3xx), and the same gateway is tried at the Contact, its limits counted again.
    private func followRedirect(_ session: CallSession, candidate: RouteCandidate, vendorKey: String, status: Int, to target: SocketAddress) {
        if dialogs[vendorKey]?.session === session { dialogs[vendorKey] = nil }
        releaseVendorLine(session)
        loop.cancel(session.attempt?.timer)
        session.attempt = nil
        session.plan.record(.response(status), for: candidate)
        session.redirectsFollowed += 1
        logger.info("\(candidate.gateway.name) redirected (\(status)) to \(target); following", metadata: session.logMetadata)
        guard !session.cancelRequested else { return }
        startAttempt(session, candidate, redirect: target)
    }

    /// What the customer's INVITE says about its caller, for `InboundCaller`. Headers the
    /// gateway's settings will not use are not parsed: this runs for every INVITE.
    private func receivedIdentity(_ request: SIPMessage, from: SIPNameAddress?, gateway: MappingGateway) -> ReceivedIdentity {
        let source = gateway.callerNumberSource
        let rpid = source == .rpid ? request.firstHeaderValue("Remote-Party-ID").flatMap { try? SIPNameAddress(parsing: $0) } : nil
        let asserted = request.headerValues("P-Asserted-Identity")
        let assertedUser = source == .pai ? asserted.first.flatMap { try? SIPNameAddress(parsing: $0) }?.uri.decodedUser : nil
        return ReceivedIdentity(
            fromUser: from?.uri.decodedUser ?? "", fromDisplayName: from?.displayName,
            remotePartyIDUser: rpid?.uri.decodedUser, assertedIdentities: asserted, assertedIdentityUser: assertedUser,
            preferredIdentities: request.headerValues("P-Preferred-Identity"), privacy: request.headerValues("Privacy"))
    }

    func releaseVendorLine(_ session: CallSession) {
        // The caller pool number lives exactly as long as the vendor line.
        if let lease = session.poolLease {
            callerPools.release(lease)
            session.poolLease = nil
        }
        releaseGroupLine(session)
        guard let name = session.occupiedVendor else { return }
        activeByVendor[name, default: 1] -= 1
        session.occupiedVendor = nil
    }

    /// §9.1: CANCEL copies the INVITE's Request-URI, top Via, From, To, Call-ID and CSeq number.
    func sendCancel(_ session: CallSession) {
        guard let invite = session.attempt?.request, let uri = invite.requestURI, let cseq = try? invite.cseq(),
              let vendor = session.vendor else { return }
        var cancel = SIPMessage(startLine: .request(method: "CANCEL", uri: uri, version: "SIP/2.0"))
        for name in ["Via", "Max-Forwards", "From", "To", "Call-ID"] {
            if let header = invite.headers.first(where: { $0.hasName(name) }) { cancel.headers.append(header) }
        }
        cancel.appendHeader("CSeq", "\(cseq.sequence) CANCEL")
        cancel.appendHeader("Content-Length", "0")
        layer.send(cancel, to: vendor.peer) { _ in }
    }
}
