// Peers, transports and the transaction layer speak `Sockets.SocketAddress`: whoever imports
// SIPStack gets it too.
@_exported import Sockets

/// SIPStack owns SIP's moving parts below the call logic: the event loop, UDP and TCP
/// transports, and the RFC 3261 transaction layer with its timers and retransmissions.
/// It must not know routing, billing, gateways or the store: the transaction user above it
/// (the B2BUA) gets requests and responses and decides.
public enum SIPStack {}
