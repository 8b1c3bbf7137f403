import CMnl
import CNftnl
import CNetfilterConntrack

/// Netfilter owns the nftables ruleset model, its text renderer, the netlink programmer
/// (libnftnl/libmnl), the conntrack client and the firewall policy compiler.
/// It must not decide policy from SIP state: callers hand it a policy.
public enum Netfilter {}
