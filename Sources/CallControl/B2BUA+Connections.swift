import SIPStack

extension B2BUA {
    /// Whether a call still has `address` as its customer or vendor peer. Its TCP connection
    /// must then survive quiet periods: in-dialog requests (BYE) reach a TCP customer only on
    /// the connection it opened. Linear, but asked only about connections idle for minutes.
    public func hasCalls(with address: SocketAddress) -> Bool {
        dialogs.values.contains { entry in
            entry.session.customer.peer.address == address || entry.session.vendor?.peer.address == address
        }
    }
}
