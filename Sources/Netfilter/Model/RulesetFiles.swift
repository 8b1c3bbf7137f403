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
            "Relayed packets are forwarded, so the host needs net.ipv4.ip_forward=1.",
        ])
    }
}
