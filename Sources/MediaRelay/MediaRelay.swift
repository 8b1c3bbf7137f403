/// MediaRelay owns the data plane: media sockets and the port pool, the batched I/O threads,
/// sessions and legs, symmetric-RTP latching, per-leg statistics, RTP timeouts and the seam
/// (`KernelOffload`) where kernel forwarding plugs in. `RelayControlHandler` maps control
/// requests (MediaControl) onto a `RelayEngine`.
///
/// It must not parse SIP or SDP, and must not read the store or the parameters: the daemon
/// passes it a `RelayConfiguration` and calls `reconfigure` when that changes.
public enum MediaRelay {}
