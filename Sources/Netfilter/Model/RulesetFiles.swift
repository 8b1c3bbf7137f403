/// The text files committed under `nft/` and printed by `vosctl firewall render`.
public enum RulesetFiles {
    public static func firewall(_ policy: FirewallPolicy = .defaults) -> String {
        RulesetRenderer.render([FirewallCompiler.compile(policy)], header: [
            "vos host firewall (table inet vos_filter), rendered by the Netfilter module.",
            "vos-mediad programs this table over netlink in one atomic batch; do not edit it by hand,",
            "`vosctl firewall audit` reports any difference between the kernel and the policy.",
            "",
            "Lines starting with \"# xt string\" are real kernel rules that nft text cannot express:",
            "vos installs them at that position as xtables string matches (compat `match` expression,",
            "algo bm, offsets 0-65535). `nft list` prints them as \"xt match string\" without the pattern;",
            "the audit decodes the pattern from the match info. Loading this file with `nft -f`",
            "installs everything except those scanner drops.",
        ])
    }

    public static func media(dscp: UInt8 = 46) -> String {
        RulesetRenderer.render([MediaOffloadTable.model(dscp: dscp)], header: [
            "vos media offload (table ip vos_media), owned by vos-mediad and rendered by the Netfilter module.",
            "Map and set elements are added and removed per call at run time; this file is the empty skeleton.",
            "Relayed packets are forwarded, so the host needs net.ipv4.ip_forward=1. The untracked rule's port range",
            "is SS_MEDIAPROXYPORT_START..END when vos-mediad created the table (defaults shown).",
        ])
    }

    public static func capture() -> String {
        RulesetRenderer.render([MediaCaptureTable.model()], header: [
            "vos media capture (table ip vos_capture), owned by vos-mediad and rendered by the Netfilter module.",
            "vos-mediad adds a map element per call leg at run time (relay address . leg port : capture port,",
            "or leg port : capture port in wildcard_ports for legs bound to 0.0.0.0, matched on any local",
            "address); this file is the empty skeleton. TPROXY hands the leg's UDP packets to its I/O thread's capture",
            "socket (bound 0.0.0.0:PORT with IP_TRANSPARENT), which reads many legs at once with recvmmsg.",
            "The per-leg sockets stay bound so the kernel never gives a captured port to another program.",
            "Needs the nft_tproxy kernel module and CAP_NET_ADMIN. Priority dstnat + 1 runs after the",
            "vos_media DNAT, so offloaded flows no longer match a relay port. The port range is",
            "SS_MEDIAPROXYPORT_START..END when vos-mediad created the table (defaults shown).",
            "",
            "nft 1.0.6 lists the rules as \"udp dport ... tproxy to\" without the map; that is a display",
            "limitation of nft, the kernel rules do look the port up in the maps (`nft --debug=netlink list`).",
        ])
    }
}
