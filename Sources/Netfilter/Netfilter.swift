import CMnl
import CNftnl
import CNetfilterConntrack

/// Netfilter owns the nftables ruleset model, its text renderer, the netlink programmer
/// (libnftnl/libmnl), the conntrack client and the firewall policy compiler.
/// It must not decide policy from SIP state: callers hand it a policy.
///
/// - `FirewallPolicy` -> `FirewallCompiler.compile` -> `Table` (`inet vos_filter`).
/// - `RulesetRenderer` / `RulesetFiles` print tables as `nft list` would (`nft/*.nft`).
/// - `NftablesClient` programs a table in one atomic netlink batch (`apply`, `ensure`), reads it
///   back with counters (`read`), compares it with the model (`audit`), manages bans
///   (`ban`, `unban`, `bans`) and the media offload maps (`offload`, `stopOffloading`,
///   `offloadedFlowCounters`).
/// - `ConntrackClient` lists and deletes conntrack entries (libnetfilter_conntrack).
/// - Kernel refusals for privilege or support surface as `NetfilterError.unavailable`, which
///   vos-mediad turns into "media stays in userspace".
///
/// All kernel work happens in the network namespace of the calling thread. See docs/Netfilter.md.
public enum Netfilter {}
