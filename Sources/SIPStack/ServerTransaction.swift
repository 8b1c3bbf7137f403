import SIPCore

/// The server side of one request (RFC 3261 §17.2): absorbs retransmissions by replaying the
/// last response, retransmits non-2xx INVITE finals until the ACK (timer G/H), and lingers
/// to catch late retransmissions (timers I/J) before it is forgotten.
public final class ServerTransaction {
    public enum State { case proceeding, completed, confirmed, terminated }

    public let key: String
    public let request: SIPMessage
    public let method: String
    public let peer: Peer
    public private(set) var state: State = .proceeding
    /// The final status sent, if any.
    public private(set) var finalStatus: Int?
    private var lastResponse: [UInt8]?
    private var retransmitTimer: TimerID?
    private var timeoutTimer: TimerID?
    private var retransmitInterval: Duration = .zero
    unowned let layer: TransactionLayer

    init(key: String, request: SIPMessage, method: String, peer: Peer, layer: TransactionLayer) {
        self.key = key
        self.request = request
        self.method = method
        self.peer = peer
        self.layer = layer
    }

    public var isInvite: Bool { method == "INVITE" }

    /// Sends a response built by the transaction user.
    public func respond(_ response: SIPMessage) {
        guard state == .proceeding, let status = response.statusCode else { return }
        let bytes = response.serialized()
        lastResponse = bytes
        layer.transmit(bytes, to: peer)
        guard status >= 200 else { return }
        finalStatus = status
        let loop = layer.loop
        let timers = layer.timers
        if isInvite && status < 300 {
            // The 2xx and its retransmissions belong to the UAS core (§13.3.1.4), not to us.
            terminate()
        } else if isInvite {
            state = .completed
            if !peer.isReliable {
                retransmitInterval = timers.t1
                scheduleRetransmit()
            }
            timeoutTimer = loop.schedule(after: timers.transactionTimeout) { [weak self] in
                self?.layer.ackTimedOut(self)
                self?.terminate()
            }
        } else {
            state = .completed
            timeoutTimer = loop.schedule(after: peer.isReliable ? .zero : timers.transactionTimeout) { [weak self] in self?.terminate() }
        }
    }

    /// Convenience: a response to this transaction's request.
    public func respond(status: Int, reason: String? = nil, toTag: String? = nil, headers: [(String, String)] = []) {
        var response = SIPMessage.response(to: request, status: status, reason: reason, toTag: toTag)
        for (name, value) in headers { response.appendHeader(name, value) }
        respond(response)
    }

    func retransmissionReceived() {
        if let lastResponse, state != .terminated { layer.transmit(lastResponse, to: peer) }
    }

    func ackReceived() {
        guard isInvite, state == .completed else { return }
        state = .confirmed
        layer.loop.cancel(retransmitTimer)
        layer.loop.cancel(timeoutTimer)
        timeoutTimer = layer.loop.schedule(after: peer.isReliable ? .zero : layer.timers.t4) { [weak self] in self?.terminate() }
    }

    private func scheduleRetransmit() {
        retransmitTimer = layer.loop.schedule(after: retransmitInterval) { [weak self] in
            guard let self, self.state == .completed, let bytes = self.lastResponse else { return }
            self.layer.transmit(bytes, to: self.peer)
            self.retransmitInterval = min(self.retransmitInterval * 2, self.layer.timers.t2)
            self.scheduleRetransmit()
        }
    }

    func terminate() {
        guard state != .terminated else { return }
        state = .terminated
        layer.loop.cancel(retransmitTimer)
        layer.loop.cancel(timeoutTimer)
        layer.forget(self)
    }
}
