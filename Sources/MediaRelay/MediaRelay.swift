/// MediaRelay owns the data plane: sockets, batched I/O loops, the port pool, sessions and legs,
/// latching, statistics, timeouts and offload decisions. It must not parse SIP or read the store.
public enum MediaRelay {}
