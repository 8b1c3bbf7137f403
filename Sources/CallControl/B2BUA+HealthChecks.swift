import SIPCore
import SIPStack
import VOSModel

/// OPTIONS probes of routing gateways every SS_SIP_OPTIONS_CHECK_PERIOD (requirements §2):
/// any final response counts as alive; three probes in a row without one mark the gateway
/// offline, and the next answer brings it back.
extension B2BUA {
    public func startHealthChecks() {
        loop.schedule(after: Duration.seconds(1)) { [weak self] in self?.healthTick() }
    }

    private func healthTick() {
        let period = Duration.seconds(parameters.int(.sipOptionsCheckPeriod)).nanoseconds
        let names = Set(snapshot.routingGateways.map(\.name))
        health.forget(except: names)
        nextProbe = nextProbe.filter { names.contains($0.key) }
        for gateway in snapshot.routingGateways where gateway.optionsCheck && gateway.enabled {
            guard let address = snapshot.vendorAddresses[gateway.name] else { continue }
            let due = nextProbe[gateway.name] ?? loop.now
            guard loop.now >= due else { continue }
            nextProbe[gateway.name] = loop.now + period
            probe(gateway, at: address)
        }
        loop.schedule(after: Duration.seconds(1)) { [weak self] in self?.healthTick() }
    }

    private func probe(_ gateway: RoutingGateway, at address: SocketAddress) {
        if health.probeSent(gateway.name) {
            logger.warning("routing gateway \(gateway.name) is offline: \(GatewayHealth.missesBeforeOffline) OPTIONS probes unanswered")
        }
        let target = SIPURI(host: address.host, port: Int(address.port))
        var options = SIPMessage(startLine: .request(method: "OPTIONS", uri: target, version: "SIP/2.0"))
        let peer = Peer(address: address, transport: Peer.Transport(gateway.address.transport))
        let host = localHost(for: peer, gateway: gateway.advertise)
        options.appendHeader("Via", newVia(peer.transport, host: host).description)
        options.appendHeader("Max-Forwards", "70")
        options.appendHeader("From", "<sip:vos@\(host)>;tag=\(ids.token())")
        options.appendHeader("To", "<\(target)>")
        options.appendHeader("Call-ID", ids.token() + "@" + host)
        options.appendHeader("CSeq", "1 OPTIONS")
        options.appendHeader("Contact", contact(host: host))
        options.appendHeader("Content-Length", "0")
        let name = gateway.name
        layer.send(options, to: peer) { [weak self] event in
            guard let self, case .final = event else { return }
            if self.health.probeAnswered(name, at: loop.wallMilliseconds) {
                self.logger.info("routing gateway \(name) is online again")
            }
        }
    }
}
