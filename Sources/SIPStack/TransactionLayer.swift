import SIPCore

/// What the B2BUA implements to receive what the transaction layer does not absorb itself.
public protocol TransactionUser: AnyObject {
    /// A new request (never a retransmission, never an ACK).
    func handleRequest(_ request: SIPMessage, transaction: ServerTransaction)
    /// An ACK that matches no server transaction: the ACK for a 2xx, end to end.
    func handleACK(_ ack: SIPMessage, from peer: Peer)
    /// A response no client transaction claims (e.g. a 2xx retransmission after it ended).
    func handleStrayResponse(_ response: SIPMessage, from peer: Peer)
    /// A non-2xx INVITE final was never ACKed within 64*T1.
    func handleACKTimeout(_ transaction: ServerTransaction)
}

extension TransactionUser {
    public func handleStrayResponse(_ response: SIPMessage, from peer: Peer) {}
    public func handleACKTimeout(_ transaction: ServerTransaction) {}
}

/// Counters an operator reads to see what the stack is coping with.
public struct SIPStackCounters: Sendable {
    public var received: UInt64 = 0
    public var sent: UInt64 = 0
    public var malformed: UInt64 = 0
    public var answeredMalformed: UInt64 = 0
    public var retransmissionsAbsorbed: UInt64 = 0
}

/// RFC 3261 §17 matching and lifetimes for every transaction of the process.
public final class TransactionLayer {
    public let loop: any EventLoop
    public let timers: TransactionTimers
    public weak var user: (any TransactionUser)?
    public private(set) var counters = SIPStackCounters()
    private let parser = SIPMessageParser()
    private var servers: [String: ServerTransaction] = [:]
    private var clients: [String: ClientTransaction] = [:]
    private var senders: [Peer.Transport: (([UInt8], SocketAddress) -> Void)] = [:]
    /// Called for each message that fails to parse, with its source (the controller counts them
    /// per source for the firewall).
    public var onMalformed: (SocketAddress, SIPParseError) -> Void = { _, _ in }

    public init(loop: any EventLoop, timers: TransactionTimers = TransactionTimers()) {
        self.loop = loop
        self.timers = timers
    }

    public var activeServerTransactions: Int { servers.count }
    public var activeClientTransactions: Int { clients.count }

    /// Whether a transaction still exchanges messages with `address` (its TCP connection must
    /// stay open). Linear, but asked only about connections already idle for minutes.
    public func hasTransactions(with address: SocketAddress) -> Bool {
        servers.values.contains { $0.peer.address == address } || clients.values.contains { $0.peer.address == address }
    }

    /// Wires a transport: what to call to send on it.
    public func attach(_ transport: Peer.Transport, send: @escaping ([UInt8], SocketAddress) -> Void) {
        senders[transport] = send
    }

    func transmit(_ bytes: [UInt8], to peer: Peer) {
        counters.sent += 1
        senders[peer.transport]?(bytes, peer.address)
    }

    /// Sends a message outside any transaction (ACK for 2xx, 2xx retransmissions, stateless replies).
    public func sendStateless(_ message: SIPMessage, to peer: Peer) {
        transmit(message.serialized(), to: peer)
    }

    /// Sends bytes that are not a SIP message (NAT keep-alives) from the SIP socket.
    public func sendRaw(_ bytes: [UInt8], to peer: Peer) {
        senders[peer.transport]?(bytes, peer.address)
    }

    /// Starts a client transaction. The request's top Via must carry a fresh branch.
    @discardableResult
    public func send(_ request: SIPMessage, to peer: Peer, handler: @escaping (ClientTransaction.Event) -> Void) -> ClientTransaction? {
        guard let via = try? request.topVia(), let branch = via.branch, let cseq = try? request.cseq() else { return nil }
        let key = branch + " " + cseq.method
        let transaction = ClientTransaction(key: key, request: request, method: cseq.method, peer: peer, layer: self, handler: handler)
        clients[key] = transaction
        transaction.start()
        return transaction
    }

    /// The INVITE server transaction a CANCEL refers to (same branch, §9.2).
    public func inviteTransaction(cancelledBy cancel: SIPMessage, from peer: Peer) -> ServerTransaction? {
        guard let via = try? cancel.topVia() else { return nil }
        return servers[serverKey(via: via, method: "INVITE", message: cancel, peer: peer)]
    }

    /// Entry point for a datagram or a framed stream message.
    public func receive(_ bytes: UnsafeRawBufferPointer, from peer: Peer) {
        counters.received += 1
        let message: SIPMessage
        do {
            message = try parser.parse(bytes)
        } catch {
            counters.malformed += 1
            onMalformed(peer.address, error)
            let raw = Array(bytes)
            if let response = SIPBadRequest.response(for: raw, error: error, toTag: nil) {
                counters.answeredMalformed += 1
                transmit(response.serialized(), to: peer)
            }
            return
        }
        if message.isRequest { receiveRequest(message, from: peer) } else { receiveResponse(message, from: peer) }
    }

    private func receiveRequest(_ request: SIPMessage, from peer: Peer) {
        guard let method = request.method, let via = try? request.topVia() else { return }
        if method == "ACK" {
            if let transaction = servers[serverKey(via: via, method: "INVITE", message: request, peer: peer)],
               transaction.finalStatus.map({ $0 >= 300 }) == true {
                transaction.ackReceived()
            } else {
                user?.handleACK(request, from: peer)
            }
            return
        }
        let key = serverKey(via: via, method: method, message: request, peer: peer)
        if let existing = servers[key] {
            counters.retransmissionsAbsorbed += 1
            existing.retransmissionReceived()
            return
        }
        let transaction = ServerTransaction(key: key, request: request, method: method, peer: peer, layer: self)
        servers[key] = transaction
        user?.handleRequest(request, transaction: transaction)
    }

    private func receiveResponse(_ response: SIPMessage, from peer: Peer) {
        guard let via = try? response.topVia(), let branch = via.branch, let cseq = try? response.cseq() else { return }
        if let transaction = clients[branch + " " + cseq.method] {
            transaction.responseReceived(response)
        } else {
            user?.handleStrayResponse(response, from: peer)
        }
    }

    /// §17.2.3: the branch with the magic cookie identifies the transaction (plus sent-by and
    /// method); older peers are matched by the request's identifying fields.
    private func serverKey(via: SIPVia, method: String, message: SIPMessage, peer: Peer) -> String {
        let sentBy = via.host + ":" + String(via.port ?? 5060)
        if let branch = via.branch, via.hasMagicCookieBranch {
            return branch + " " + sentBy + " " + method
        }
        let sequence = (try? message.cseq().sequence).map(String.init) ?? "-"
        let fromTag = (try? message.from().tag) ?? "-"
        return [message.callID ?? "-", sequence, fromTag, sentBy, peer.address.description, method].joined(separator: " ")
    }

    func forget(_ transaction: ServerTransaction) {
        if servers[transaction.key] === transaction { servers[transaction.key] = nil }
    }

    func forget(_ transaction: ClientTransaction) {
        if clients[transaction.key] === transaction { clients[transaction.key] = nil }
    }

    func ackTimedOut(_ transaction: ServerTransaction?) {
        if let transaction { user?.handleACKTimeout(transaction) }
    }
}
