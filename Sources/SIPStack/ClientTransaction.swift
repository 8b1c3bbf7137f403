import SIPCore

/// The client side of one request (RFC 3261 §17.1, with RFC 6026's Accepted state): retransmits
/// over UDP (timers A/E), gives up after 64*T1 (B/F), ACKs non-2xx INVITE finals itself, and
/// keeps passing 2xx retransmissions up so the B2BUA can re-ACK them.
public final class ClientTransaction {
    public enum Event {
        case provisional(SIPMessage)
        case final(SIPMessage)
        /// No final response within 64*T1.
        case timeout

        /// The transaction is over: a final response or its timeout.
        public var isFinal: Bool { if case .provisional = self { return false } else { return true } }
    }

    public enum State { case calling, proceeding, accepted, completed, terminated }

    public let key: String
    public let request: SIPMessage
    public let method: String
    public let peer: Peer
    public private(set) var state: State = .calling
    private let bytes: [UInt8]
    private var retransmitTimer: TimerID?
    private var timeoutTimer: TimerID?
    private var retransmitInterval: Duration
    private let handler: (Event) -> Void
    unowned let layer: TransactionLayer

    init(key: String, request: SIPMessage, method: String, peer: Peer, layer: TransactionLayer, handler: @escaping (Event) -> Void) {
        self.key = key
        self.request = request
        self.method = method
        self.peer = peer
        self.layer = layer
        self.handler = handler
        self.bytes = request.serialized()
        self.retransmitInterval = layer.timers.t1
    }

    public var isInvite: Bool { method == "INVITE" }

    func start() {
        layer.transmit(bytes, to: peer)
        if !peer.isReliable { scheduleRetransmit() }
        timeoutTimer = layer.loop.schedule(after: layer.timers.transactionTimeout) { [weak self] in
            // An INVITE that got a provisional waits for its final as long as the TU lets it (§17.1.1.2).
            guard let self, self.state == .calling || (self.state == .proceeding && !self.isInvite) else { return }
            self.terminate()
            self.handler(.timeout)
        }
    }

    /// Stops retransmitting and waiting: the B2BUA gave up on this request (its own, shorter
    /// INVITE timeout, or a CANCEL that went unanswered).
    public func abandon() {
        terminate()
    }

    private func scheduleRetransmit() {
        retransmitTimer = layer.loop.schedule(after: retransmitInterval) { [weak self] in
            guard let self else { return }
            guard self.state == .calling || (self.state == .proceeding && !self.isInvite) else { return }
            self.layer.transmit(self.bytes, to: self.peer)
            self.retransmitInterval = self.isInvite ? self.retransmitInterval * 2 : min(self.retransmitInterval * 2, self.layer.timers.t2)
            self.scheduleRetransmit()
        }
    }

    func responseReceived(_ response: SIPMessage) {
        guard let status = response.statusCode else { return }
        switch state {
        case .calling, .proceeding:
            if status < 200 {
                state = .proceeding
                if isInvite { layer.loop.cancel(retransmitTimer) }
                handler(.provisional(response))
                return
            }
            layer.loop.cancel(retransmitTimer)
            layer.loop.cancel(timeoutTimer)
            if isInvite && status < 300 {
                state = .accepted
                timeoutTimer = layer.loop.schedule(after: layer.timers.transactionTimeout) { [weak self] in self?.terminate() }
            } else {
                if isInvite { sendACK(for: response) }
                state = .completed
                let linger: Duration = peer.isReliable ? .zero : (isInvite ? .seconds(32) : layer.timers.t4)
                timeoutTimer = layer.loop.schedule(after: linger) { [weak self] in self?.terminate() }
            }
            handler(.final(response))
        case .accepted:
            if status >= 200 && status < 300 { handler(.final(response)) }
        case .completed:
            if isInvite && status >= 300 { sendACK(for: response) }
        case .terminated:
            break
        }
    }

    /// §17.1.1.3: the ACK for a non-2xx final shares the INVITE's branch and Request-URI.
    private func sendACK(for response: SIPMessage) {
        guard let uri = request.requestURI, let cseq = try? request.cseq() else { return }
        var ack = SIPMessage(startLine: .request(method: "ACK", uri: uri, version: "SIP/2.0"))
        if let via = request.headers.first(where: { $0.hasName("Via") }) { ack.headers.append(via) }
        for name in ["Route", "Max-Forwards", "From", "Call-ID"] {
            for header in request.headers where header.hasName(name) { ack.headers.append(header) }
        }
        if let to = response.headers.first(where: { $0.hasName("To") }) { ack.headers.append(to) }
        ack.appendHeader("CSeq", "\(cseq.sequence) ACK")
        ack.appendHeader("Content-Length", "0")
        layer.transmit(ack.serialized(), to: peer)
    }

    func terminate() {
        guard state != .terminated else { return }
        state = .terminated
        layer.loop.cancel(retransmitTimer)
        layer.loop.cancel(timeoutTimer)
        layer.forget(self)
    }
}
