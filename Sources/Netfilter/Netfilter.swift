import CMnl
import CNftnl
import CNetfilterConntrack

/// Netfilter owns the nftables ruleset model, its text renderer, the netlink programmer
/// (libnftnl/libmnl), the conntrack client and the firewall policy compiler.
/// It must not decide policy from SIP state: callers hand it a policy.
///
/// - `FirewallPolicy` -> `FirewallCompiler.compile` -> `Table` (`inet vos_filter`);
///   `MediaOffloadTable` (`ip vos_media`) and `MediaCaptureTable` (`ip vos_capture`) are fixed models.
/// - `RulesetRenderer` / `RulesetFiles` print tables as `nft list` would (`nft/*.nft`).
/// - `NftablesClient` programs a table in one atomic netlink batch (`apply`, `ensure`), reads it
///   back with counters (`read`), compares it with the model (`audit`), manages bans
///   (`ban`, `unban`, `bans`), the media offload maps (`offload`, `stopOffloading`,
///   `offloadedFlowCounters`) and the media capture map that steers relay leg ports to the I/O
///   threads' TPROXY capture sockets (`addCapture`, `removeCapture`, `capturedPorts`).
/// - `ConntrackClient` lists and deletes conntrack entries (libnetfilter_conntrack).
/// - Kernel refusals for privilege or support surface as `NetfilterError.unavailable`, which
///   vos-mediad turns into "media stays in userspace".
///
/// All kernel work happens in the network namespace of the calling thread. See docs/Netfilter.md.
public enum Netfilter {}
