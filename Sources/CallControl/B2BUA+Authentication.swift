import SIPCore
import SIPStack
import Softswitch
import VOSModel

/// Digest authentication of mapping gateways with `--auth password` (RFC 3261 §22, RFC 8760):
/// challenges (401 for REGISTER, 407 for INVITE), the verdict of `DigestAuthenticator`, and
/// what failures lead to: a suspended gateway and its sources in the firewall's ban set.
/// Suspensions are written through `subscriberState` and come back with the store's snapshot.
extension B2BUA {
    func reloadSubscriberSettings(_ fresh: ControllerSnapshot) {
        authenticator.settings = DigestAuthenticator.Settings(parameters: fresh.parameters)
        authenticationFailures.settings = AuthenticationFailures.Settings(parameters: fresh.parameters)
        var merged = fresh.suspensions
        for name in suspensionsBeingStored { merged[name] = suspensions[name] }
        for name in suspensions.keys where merged[name] == nil {
            // Lifted by the operator (`vosctl gateway unsuspend`): the count starts over.
            authenticationFailures.reset(name)
            logger.notice("mapping gateway \(name): suspension lifted")
        }
        suspensions = merged
    }

    /// The suspension in force for `gateway`, if any.
    func activeSuspension(_ gateway: String) -> GatewaySuspension? {
        guard let suspension = suspensions[gateway], suspension.until > loop.wallMilliseconds else { return nil }
        return suspension
    }

    /// The password gateway a request authenticates as, or nil when it was answered here
    /// (challenge, 400, 403). `proxy`: INVITE-style (407, Proxy-Authorization).
    func authenticatedGateway(_ request: SIPMessage, transaction: ServerTransaction, proxy: Bool) -> MappingGateway? {
        let source = transaction.peer.address
        let header = proxy ? "Proxy-Authorization" : "Authorization"
        // Some user agents answer a 407 with Authorization; take whichever carries our realm.
        let values = request.headerValues(header) + request.headerValues(proxy ? "Authorization" : "Proxy-Authorization")
        let ours = values.first { $0.contains("realm=\"\(authenticator.settings.realm)\"") } ?? values.first
        guard let value = ours else {
            challenge(transaction, proxy: proxy, stale: false)
            return nil
        }
        let credentials: SIPDigestCredentials
        do {
            credentials = try SIPDigestCredentials(parsing: value, header: header)
        } catch {
            logger.info("\(request.method ?? "request") from \(source): \(error)")
            var warning = ""
            SIPNameAddress.writeQuoted(error.description, to: &warning)
            transaction.respond(status: 400, reason: "Bad \(header)", toTag: ids.token(), headers: [("Warning", "399 vos " + warning)])
            return nil
        }
        let verdict = authenticator.verify(credentials, method: request.method ?? "", now: loop.now / 1_000_000) { [snapshot] username in
            snapshot.passwordGateways[username]?.credential
        }
        switch verdict {
        case let .challenge(stale, reason):
            logger.debug("\(request.method ?? "request") from \(source): challenged again (\(reason))")
            challenge(transaction, proxy: proxy, stale: stale)
            return nil
        case let .rejected(username, reason):
            authenticationFailed(username: username, source: source, reason: reason, transaction: transaction)
            return nil
        case let .accepted(username):
            guard let gateway = snapshot.passwordGateways[username] else {
                authenticationFailed(username: username, source: source, reason: "unknown user", transaction: transaction)
                return nil
            }
            if !gateway.ips.isEmpty && !gateway.ips.contains(source.address) {
                authenticationFailed(username: username, source: source, reason: "source \(source.ip) is not one of the gateway's --ip",
                                     transaction: transaction)
                return nil
            }
            if let suspension = activeSuspension(gateway.name) {
                transaction.respond(status: 403, reason: "Gateway Suspended", toTag: ids.token(),
                                    headers: [("Warning", "399 vos \"suspended until \(suspension.until / 1000): \(suspension.reason)\"")])
                return nil
            }
            return gateway
        }
    }

    func challenge(_ transaction: ServerTransaction, proxy: Bool, stale: Bool) {
        let header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate"
        let headers = authenticator.challenges(now: loop.now / 1_000_000, stale: stale).map { (header, $0.headerValue) }
        transaction.respond(status: proxy ? 407 : 401, reason: proxy ? "Proxy Authentication Required" : "Unauthorized",
                            toTag: ids.token(), headers: headers)
    }

    /// Wrong credentials: 403, the source counted for the ban feed, and the gateway counted
    /// towards suspension.
    private func authenticationFailed(username: String, source: SocketAddress, reason: String, transaction: ServerTransaction) {
        logger.notice("authentication of '\(username)' from \(source) failed: \(reason)")
        transaction.respond(status: 403, reason: "Forbidden", toTag: ids.token())
        // The gateway's count first: when it suspends, the ban carries that reason (the source's
        // own count would ban with a vaguer one at the same moment; repeats are suppressed).
        if let gateway = snapshot.passwordGateways[username], activeSuspension(gateway.name) == nil,
           let verdict = authenticationFailures.record(gateway: gateway.name, source: source.ip, reason: reason, now: loop.now / 1_000_000) {
            suspend(verdict)
        }
        countForbidden(source)
    }

    private func suspend(_ verdict: AuthenticationFailures.Suspension) {
        let now = loop.wallMilliseconds
        let suspension = GatewaySuspension(gateway: verdict.gateway, since: now, until: now + Int64(parameters.int(.authSuspendTime)) * 1000,
                                           reason: verdict.reason, sources: verdict.sources)
        logger.warning("mapping gateway \(verdict.gateway) suspended for \(parameters.int(.authSuspendTime)) s: \(verdict.reason)")
        suspensions[verdict.gateway] = suspension
        suspensionsBeingStored.insert(verdict.gateway)
        let name = verdict.gateway
        if let subscriberState {
            subscriberState.suspend(suspension) { [loop] in
                loop.execute { [weak self] in self?.suspensionsBeingStored.remove(name) }
            }
        } else {
            suspensionsBeingStored.remove(name)
        }
        for source in verdict.sources {
            banFeed?.ban(source, reason: "mapping gateway \(name) suspended: \(verdict.reason)", snapshot: snapshot)
        }
    }
}
