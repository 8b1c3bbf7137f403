/// VOS3000's system parameters (requirements §9), names kept so operators can carry settings over.
/// Each has a type, a default and an allowed range; values are stored as text and checked here.
public enum SystemParameter: String, Sendable, Codable, CaseIterable, Comparable {
    // Media
    case mediaProxyMode = "SS_MEDIAPROXYMODE"
    case mediaProxyPortStart = "SS_MEDIAPROXYPORT_START"
    case mediaProxyPortEnd = "SS_MEDIAPROXYPORT_END"
    case rtpTimeout = "SS_RTP_TIMEOUT"
    case qosRTP = "SS_QOS_RTP"
    case qosSignal = "SS_QOS_SIGNAL"
    case mediaKernelOffload = "SS_MEDIA_KERNEL_OFFLOAD"
    case mediaIP = "SS_MEDIA_IP"
    case advertisedAddresses = "SS_ADVERTISED_ADDRESSES"
    case jitterBufferMode = "SS_JITTERBUFFER_MODE"
    case jitterBufferMin = "SS_JITTERBUFFER_MIN"
    case jitterBufferMax = "SS_JITTERBUFFER_MAX"
    case jitterBufferDefault = "SS_JITTERBUFFER_DEFAULT"
    case echoCancel = "SS_ECHOCANCEL"
    case echoCancelTail = "SS_ECHOCANCELTAIL"
    case comfortNoise = "SS_COMFORTNOISE"
    case voiceGain = "SS_VOICEGAIN"
    // Signalling and routing
    case maxCPS = "SS_MAX_CPS"
    case sipTimeoutInvite = "SS_SIP_TIMEOUT_INVITE"
    case sipTimeoutRinging = "SS_SIP_TIMEOUT_RINGING"
    case shutdownDrainTime = "SS_SHUTDOWN_DRAIN_TIME"
    case sipOptionsCheckPeriod = "SS_SIP_OPTIONS_CHECK_PERIOD"
    case gatewaySwitchLimit = "SS_GATEWAY_SWITCH_LIMIT"
    case sessionTTL = "SS_SIP_SESSION_TTL"
    case sessionUpdateSegment = "SS_SIP_SESSION_UPDATE_SEGMENT"
    case sessionMinSE = "SS_SIP_SESSION_MIN_SE"
    case sessionTimeoutEarlyHangup = "SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP"
    case noTimerReinviteInterval = "SS_SIP_NO_TIMER_REINVITE_INTERVAL"
    case natKeepAliveMessage = "SS_SIP_NAT_KEEP_ALIVE_MESSAGE"
    case natKeepAlivePeriod = "SS_SIP_NAT_KEEP_ALIVE_PERIOD"
    case natKeepAliveSendInterval = "SS_SIP_NAT_KEEP_ALIVE_SEND_INTERVAL"
    case natKeepAliveSendOneTime = "SS_SIP_NAT_KEEP_ALIVE_SEND_ONE_TIME"
    case forwardSignalRewriteSequence = "FORWARD_SIGNAL_REWRITE_SEQUENCE"
    // Capture: HEP v3 to Homer/sngrep, and the trace ring behind `vosctl trace` (vos's own names)
    case hepEnable = "SS_HEP_ENABLE"
    case hepAddress = "SS_HEP_ADDRESS"
    case hepCaptureID = "SS_HEP_CAPTURE_ID"
    case hepPassword = "SS_HEP_PASSWORD"
    case sipTraceMemory = "SS_SIP_TRACE_MEMORY"
    // Digest authentication and registration (vos's own names: VOS3000 sets these in its UI)
    case authRealm = "SS_SIP_AUTH_REALM"
    case authAlgorithms = "SS_SIP_AUTH_ALGORITHMS"
    case authNonceLifetime = "SS_SIP_AUTH_NONCE_LIFETIME"
    case authMaxFailures = "SS_SIP_AUTH_MAX_FAILURES"
    case authFailureWindow = "SS_SIP_AUTH_FAILURE_WINDOW"
    case authSuspendTime = "SS_SIP_AUTH_SUSPEND_TIME"
    case registerMinExpires = "SS_SIP_REGISTER_MIN_EXPIRES"
    case registerMaxExpires = "SS_SIP_REGISTER_MAX_EXPIRES"
    // Billing
    case overdraftAdvanceTime = "SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME"
    case moneyPrecision = "SERVER_BILLING_MONEY_PRECISION"
    case verifyClearingCustomer = "SERVER_VERIFY_CLEARING_CUSTOMER"
    case verifyClearingCustomerRemainMoneyLimit = "SERVER_VERIFY_CLEARING_CUSTOMER_REMAIN_MONEY_LIMIT"
    case holdTimePrecision = "SERVER_BILLING_HOLD_TIME_PRECISION"
    case billingUnitPrecision = "SERVER_BILLING_UNIT_PRECISION"
    // Wholesale routing (docs/ROUTING.md): sort mode, gateway quality, number portability
    case routingSort = "SS_ROUTING_SORT"
    case gatewayQualityCalculate = "SS_GATEWAY_QUALITY_CALCULATE"
    case gatewayQualityReserveTime = "SS_GATEWAY_QUALITY_RESERVE_TIME"
    case gatewayQualityReserveSeparate = "SS_GATEWAY_QUALITY_RESERVE_SEPARATE"
    case gatewayQualityMinCalls = "SS_GATEWAY_QUALITY_MIN_CALLS"
    case gatewayQualityASRFloor = "SS_GATEWAY_QUALITY_ASR_FLOOR"
    case gatewayQualityUseACD = "SS_GATEWAY_QUALITY_USE_ACD"
    case timeZone = "SS_TIME_ZONE"
    case lrnEnable = "SS_LRN_ENABLE"
    case lrnEatPrefixLength = "SS_LRN_EAT_PREFIX_LENGTH"
    case lrnFailureAction = "SS_LRN_FAILURE_ACTION"
    case lrnRoutingNumber = "SS_LRN_ROUTING_NUMBER"
    // Cluster mode (docs/CLUSTER.md); read only by nodes started with --cluster-dsn
    case clusterLeaseSlice = "SS_CLUSTER_LEASE_SLICE"
    case clusterLeaseIdleSeconds = "SS_CLUSTER_LEASE_IDLE_SECONDS"
    // Firewall
    case firewallEnable = "SS_FIREWALL_ENABLE"
    case firewallSIPPorts = "SS_FIREWALL_SIP_PORTS"
    case firewallManagementSubnets = "SS_FIREWALL_MANAGEMENT_SUBNETS"
    case firewallManagementPorts = "SS_FIREWALL_MANAGEMENT_PORTS"
    case firewallOptionsRate = "SS_FIREWALL_OPTIONS_RATE"
    case firewallOptionsBurst = "SS_FIREWALL_OPTIONS_BURST"
    case firewallRegisterRate = "SS_FIREWALL_REGISTER_RATE"
    case firewallRegisterBurst = "SS_FIREWALL_REGISTER_BURST"
    case firewallInviteRate = "SS_FIREWALL_INVITE_RATE"
    case firewallInviteBurst = "SS_FIREWALL_INVITE_BURST"
    case firewallBanTime = "SS_FIREWALL_BAN_TIME"
    case firewallConcurrentPerIP = "SS_FIREWALL_CONCURRENT_PER_IP"
    case firewallConcurrentPerSubnet = "SS_FIREWALL_CONCURRENT_PER_SUBNET"
    case firewallScannerUserAgents = "SS_FIREWALL_SCANNER_USER_AGENTS"
    // Alarms (vos's own name: VOS3000 sets alarm monitoring in its UI)
    case alarmCheckInterval = "SS_ALARM_CHECK_INTERVAL"

    public static func < (lhs: SystemParameter, rhs: SystemParameter) -> Bool { lhs.rawValue < rhs.rawValue }

    public enum ValueKind: Sendable, Equatable {
        case integer(ClosedRange<Int>)
        case choice([Int])
        case money
        case text(maxLength: Int)
        /// Comma-separated ports (1-65535).
        case portList
        /// Comma-separated IPv4/IPv6 prefixes.
        case prefixList
        /// Comma-separated words without commas or quotes.
        case wordList
        /// One IP address, or empty for none.
        case optionalAddress
        /// One `IP:PORT` (`[IPv6]:PORT`), or empty for none.
        case optionalEndpoint
        /// Comma-separated `LOCAL=PUBLIC` address pairs (`AddressMap`).
        case addressMap
        /// Comma-separated words, each one of these (matched case-insensitively), at least one.
        case choiceList([String])
        /// Exactly one of these words (matched case-insensitively).
        case word([String])
        /// An IANA time zone name (`Europe/Berlin`), or empty for the host's.
        case timeZone

        public var allowed: String {
            switch self {
            case let .integer(range): return "\(range.lowerBound)-\(range.upperBound)"
            case let .choice(values): return values.map(String.init).joined(separator: ", ")
            case .money: return "a decimal amount"
            case let .text(maxLength): return "text of at most \(maxLength) characters"
            case .portList: return "comma-separated ports 1-65535"
            case .prefixList: return "comma-separated IP prefixes such as 10.0.0.0/8"
            case .wordList: return "comma-separated words"
            case .optionalAddress: return "an IP address, or empty"
            case .optionalEndpoint: return "IP:PORT ([IPv6]:PORT), or empty"
            case .addressMap: return "comma-separated LOCAL=PUBLIC address pairs such as 192.0.2.1=203.0.113.7"
            case let .choiceList(words): return "one or more of \(words.joined(separator: ", ")), comma-separated, in order of preference"
            case let .word(words): return "one of \(words.joined(separator: ", "))"
            case .timeZone: return "an IANA time zone name such as Europe/Berlin, or empty for the host's"
            }
        }
    }

    public struct Definition: Sendable {
        public let kind: ValueKind
        public let defaultValue: String
        public let summary: String
    }

    public var definition: Definition {
        switch self {
        case .mediaProxyMode: return .init(kind: .integer(0...3), defaultValue: "3", summary: "media relay: 0 off, 1 on, 2 auto (NAT), 3 must on")
        case .mediaProxyPortStart: return .init(kind: .integer(1024...65534), defaultValue: "10000", summary: "first RTP port of the relay range (even)")
        case .mediaProxyPortEnd: return .init(kind: .integer(1025...65535), defaultValue: "60000", summary: "last port of the relay range")
        case .rtpTimeout: return .init(kind: .integer(0...3600), defaultValue: "30", summary: "seconds without RTP either way before the call is released (0 = never)")
        case .qosRTP: return .init(kind: .integer(0...63), defaultValue: "46", summary: "DSCP on media packets (46 = EF, TOS 0xB8)")
        case .qosSignal: return .init(kind: .integer(0...63), defaultValue: "24", summary: "DSCP on SIP packets (24 = CS3, TOS 0x60)")
        case .mediaKernelOffload: return .init(kind: .integer(0...1), defaultValue: "1", summary: "forward plain relay flows in the kernel (nftables + conntrack)")
        case .mediaIP: return .init(kind: .optionalAddress, defaultValue: "", summary: "address media legs bind to (empty: all addresses; SDP then carries the address facing each peer)")
        case .advertisedAddresses: return .init(kind: .addressMap, defaultValue: "", summary: "LOCAL=PUBLIC pairs: the address a NAT in front of a local address presents, advertised in SIP and SDP instead")
        case .jitterBufferMode: return .init(kind: .integer(0...1), defaultValue: "1", summary: "jitter buffer on decoded legs: 0 fixed (SS_JITTERBUFFER_DEFAULT ms), 1 adaptive (MIN..MAX), as VOS3000")
        case .jitterBufferMin: return .init(kind: .integer(0...1000), defaultValue: "20", summary: "jitter buffer minimum (ms)")
        case .jitterBufferMax: return .init(kind: .integer(0...1000), defaultValue: "200", summary: "jitter buffer maximum (ms)")
        case .jitterBufferDefault: return .init(kind: .integer(0...1000), defaultValue: "60", summary: "jitter buffer start size (ms)")
        case .echoCancel: return .init(kind: .integer(0...1), defaultValue: "1", summary: "echo canceller on decoded legs")
        case .echoCancelTail: return .init(kind: .choice([64, 128, 256]), defaultValue: "128", summary: "echo canceller tail (ms)")
        case .comfortNoise: return .init(kind: .integer(0...1), defaultValue: "1", summary: "comfort noise on decoded legs")
        case .voiceGain: return .init(kind: .integer(-10...10), defaultValue: "0", summary: "gain (dB) on decoded legs")
        case .maxCPS: return .init(kind: .integer(1...100_000), defaultValue: "200", summary: "calls per second the switch accepts in total")
        case .sipTimeoutInvite: return .init(kind: .integer(1...300), defaultValue: "10", summary: "seconds for a vendor to answer an INVITE before the next gateway (408)")
        case .sipTimeoutRinging: return .init(kind: .integer(1...3600), defaultValue: "120", summary: "seconds of ringing before CANCEL")
        case .shutdownDrainTime: return .init(kind: .integer(0...3600), defaultValue: "30", summary: "seconds a stopping controller lets calls finish (new calls get 503) before it hangs up the rest")
        case .sipOptionsCheckPeriod: return .init(kind: .integer(5...86_400), defaultValue: "60", summary: "seconds between OPTIONS probes of routing gateways")
        case .gatewaySwitchLimit: return .init(kind: .integer(1...100), defaultValue: "5", summary: "routing gateways tried per call at most")
        case .sessionTTL: return .init(kind: .integer(60...86_400), defaultValue: "600", summary: "RFC 4028 Session-Expires (s)")
        case .sessionUpdateSegment: return .init(kind: .integer(2...10), defaultValue: "2", summary: "refresh every TTL/segment")
        case .sessionMinSE: return .init(kind: .integer(90...3600), defaultValue: "90", summary: "RFC 4028 Min-SE (s)")
        case .sessionTimeoutEarlyHangup: return .init(kind: .integer(0...3600), defaultValue: "0", summary: "seconds before expiry to hang up early (0 off)")
        case .noTimerReinviteInterval: return .init(kind: .integer(0...86_400), defaultValue: "7200", summary: "longest call (s) when the peer has no session timer (0 off)")
        case .natKeepAliveMessage: return .init(kind: .text(maxLength: 64), defaultValue: "HELLO", summary: "NAT keep-alive payload (empty disables)")
        case .natKeepAlivePeriod: return .init(kind: .integer(10...86_400), defaultValue: "30", summary: "NAT keep-alive period (s)")
        case .natKeepAliveSendInterval: return .init(kind: .integer(1...10_000), defaultValue: "500", summary: "pause between keep-alive batches (ms)")
        case .natKeepAliveSendOneTime: return .init(kind: .integer(1...10_000), defaultValue: "3000", summary: "keep-alives per batch")
        case .authRealm: return .init(kind: .text(maxLength: 64), defaultValue: "vos", summary: "digest realm in challenges; passwords are hashed with the realm set when they are stored")
        case .authAlgorithms: return .init(kind: .choiceList(["SHA-256", "MD5"]), defaultValue: "MD5", summary: "digest algorithms offered, one challenge each, in this order (RFC 8760): SHA-256,MD5 for RFC 8760 clients; MD5 alone by default, as older user agents (baresip 1.0, sipp 3.6) refuse a challenge list that holds SHA-256")
        case .authNonceLifetime: return .init(kind: .integer(10...3600), defaultValue: "300", summary: "seconds a nonce is valid; older ones get 401/407 with stale=true")
        case .authMaxFailures: return .init(kind: .integer(0...1000), defaultValue: "5", summary: "failed authentications of one gateway within the window that suspend it and ban the source (0 = never)")
        case .authFailureWindow: return .init(kind: .integer(10...86_400), defaultValue: "60", summary: "window (s) in which failed authentications are counted")
        case .authSuspendTime: return .init(kind: .integer(10...604_800), defaultValue: "600", summary: "seconds a gateway stays suspended after too many failed authentications")
        case .registerMinExpires: return .init(kind: .integer(10...86_400), defaultValue: "60", summary: "shortest registration accepted (shorter: 423 with Min-Expires)")
        case .registerMaxExpires: return .init(kind: .integer(10...604_800), defaultValue: "3600", summary: "longest registration granted (longer requests are shortened)")
        case .hepEnable: return .init(kind: .integer(0...1), defaultValue: "0", summary: "send every SIP message in and out as HEP v3 to SS_HEP_ADDRESS (Homer, sngrep -L)")
        case .hepAddress: return .init(kind: .optionalEndpoint, defaultValue: "", summary: "HEP collector, UDP IP:PORT (Homer usually listens on 9060)")
        case .hepCaptureID: return .init(kind: .integer(0...4_294_967_295), defaultValue: "1", summary: "HEP capture agent id: tells this node's packets apart in Homer")
        case .hepPassword: return .init(kind: .text(maxLength: 64), defaultValue: "", summary: "HEP auth key sent with every packet (empty: none; set it only if the collector expects one)")
        case .sipTraceMemory: return .init(kind: .integer(0...1024), defaultValue: "16", summary: "MiB of recent SIP messages kept for `vosctl trace` (0 = off; a change empties it)")
        case .forwardSignalRewriteSequence: return .init(kind: .integer(0...1), defaultValue: "0", summary: "order numbers leave a routing gateway's caller number pool: 0 random, 1 round robin (poll)")
        case .overdraftAdvanceTime: return .init(kind: .integer(0...3600), defaultValue: "0", summary: "seconds of credit kept back when computing a prepaid call's longest duration")
        case .holdTimePrecision: return .init(kind: .integer(0...2), defaultValue: "0", summary: "connected time in whole seconds: 0 rounds milliseconds up, 1 to the nearest second, 2 down")
        case .billingUnitPrecision: return .init(kind: .integer(0...2), defaultValue: "0", summary: "a part of a billing step after the first interval: 0 bills a whole step, 1 a whole step from half a step, 2 nothing")
        case .routingSort: return .init(kind: .word(["priority", "lcr", "quality", "mix"]), defaultValue: "priority", summary: "order of routing gateways: priority (longest prefix, priority, load), lcr (vendor rate), quality (windowed ASR), mix (rate per answered call); lcr, quality and mix compare every matching gateway whatever its prefix length; per-prefix rules override it (`vosctl route sort`)")
        case .gatewayQualityCalculate: return .init(kind: .integer(0...1), defaultValue: "1", summary: "count each routing gateway's attempts, answers and talk time over a sliding window (for quality sorting, the ASR floor and `vosctl route explain`)")
        case .gatewayQualityReserveTime: return .init(kind: .integer(60...604_800), defaultValue: "3600", summary: "seconds of history a gateway's quality is computed over")
        case .gatewayQualityReserveSeparate: return .init(kind: .integer(10...86_400), defaultValue: "300", summary: "seconds per slice of the quality window; the oldest slice leaves the window whole")
        case .gatewayQualityMinCalls: return .init(kind: .integer(1...1_000_000), defaultValue: "20", summary: "attempts in the window before a gateway's quality counts; gateways with fewer are tried first, to learn them")
        case .gatewayQualityASRFloor: return .init(kind: .integer(0...100), defaultValue: "0", summary: "skip a gateway whose windowed ASR (percent) is below this (0 = never)")
        case .gatewayQualityUseACD: return .init(kind: .integer(0...1), defaultValue: "0", summary: "quality score: 0 ASR, 1 talk seconds per attempt (ASR x ACD)")
        case .timeZone: return .init(kind: .timeZone, defaultValue: "", summary: "time zone of route schedules, work calendars and monthly package periods (empty: the host's)")
        case .lrnEnable: return .init(kind: .integer(0...1), defaultValue: "0", summary: "look the callee up in the LRN (number portability) table before routing")
        case .lrnEatPrefixLength: return .init(kind: .integer(0...10), defaultValue: "0", summary: "leading digits of the callee dropped before the LRN lookup (e.g. 1 for a 1NXXNXXXXXX callee)")
        case .lrnFailureAction: return .init(kind: .integer(0...1), defaultValue: "0", summary: "a callee not in the LRN table: 0 is routed on its own number, 1 is refused (404)")
        case .lrnRoutingNumber: return .init(kind: .integer(0...1), defaultValue: "1", summary: "what routing and rating match: 1 the LRN, 0 the dialled number (the LRN only goes to the vendor as rn=)")
        case .clusterLeaseSlice: return .init(kind: .money, defaultValue: "10.0000", summary: "cluster mode: credit a node leases from the cluster database for an account at a time (less when less is free)")
        case .clusterLeaseIdleSeconds: return .init(kind: .integer(10...86_400), defaultValue: "60", summary: "cluster mode: a node hands an account's unused lease back after this many seconds without a call of it")
        case .moneyPrecision: return .init(kind: .integer(0...4), defaultValue: "4", summary: "decimal places charges are rounded to (half away from zero)")
        case .verifyClearingCustomer: return .init(kind: .integer(0...1), defaultValue: "0", summary: "skip routing gateways whose clearing account is under the limit below")
        case .verifyClearingCustomerRemainMoneyLimit: return .init(kind: .money, defaultValue: "0.0000", summary: "least balance a vendor clearing account must keep")
        case .firewallEnable: return .init(kind: .integer(0...1), defaultValue: "1", summary: "program the nftables SIP firewall")
        case .firewallSIPPorts: return .init(kind: .portList, defaultValue: "5060", summary: "SIP ports (UDP and TCP) the firewall protects")
        case .firewallManagementSubnets: return .init(kind: .prefixList, defaultValue: "127.0.0.0/8,::1/128", summary: "subnets allowed to reach management ports")
        case .firewallManagementPorts: return .init(kind: .portList, defaultValue: "22,9464,9465", summary: "TCP management ports (SSH; Prometheus metrics of vos-controller and vos-mediad)")
        case .firewallOptionsRate: return .init(kind: .integer(1...100_000), defaultValue: "5", summary: "OPTIONS per second per untrusted source")
        case .firewallOptionsBurst: return .init(kind: .integer(1...100_000), defaultValue: "10", summary: "OPTIONS burst per untrusted source")
        case .firewallRegisterRate: return .init(kind: .integer(1...100_000), defaultValue: "5", summary: "REGISTER per second per untrusted source")
        case .firewallRegisterBurst: return .init(kind: .integer(1...100_000), defaultValue: "10", summary: "REGISTER burst per untrusted source")
        case .firewallInviteRate: return .init(kind: .integer(1...100_000), defaultValue: "10", summary: "INVITE per second per untrusted source")
        case .firewallInviteBurst: return .init(kind: .integer(1...100_000), defaultValue: "20", summary: "INVITE burst per untrusted source")
        case .firewallBanTime: return .init(kind: .integer(10...604_800), defaultValue: "600", summary: "seconds an offender stays in the ban set")
        case .firewallConcurrentPerIP: return .init(kind: .integer(1...100_000), defaultValue: "10", summary: "concurrent SIP flows per untrusted source")
        case .firewallConcurrentPerSubnet: return .init(kind: .integer(1...100_000), defaultValue: "30", summary: "concurrent SIP flows per untrusted /24")
        case .firewallScannerUserAgents: return .init(
            kind: .wordList,
            defaultValue: "friendly-scanner,sipvicious,sipcli,sip-scan,VaxSIPUserAgent,iWar,sipsak,SIPScan,pplsip,sundayddr",
            summary: "User-Agents dropped as scanners")
        case .alarmCheckInterval: return .init(kind: .integer(1...300), defaultValue: "5", summary: "seconds between evaluations of the alarm rules (docs/OBSERVABILITY.md)")
        }
    }

    /// Looks a key up case-insensitively, so `ss_qos_rtp` works at the prompt.
    public init(key: String) throws(ModelError) {
        guard let parameter = SystemParameter(rawValue: key.uppercased()) else {
            throw ModelError.invalid(field: "parameter", value: key, expected: "a known key (see `vosctl param list`)")
        }
        self = parameter
    }

    /// Checks `raw` against the parameter's type and range and returns its canonical text.
    public func normalize(_ raw: String) throws(ModelError) -> String {
        let value = raw.trimmingSpaces
        switch definition.kind {
        case let .integer(range):
            guard let number = Int(value) else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: "a whole number in \(range.lowerBound)-\(range.upperBound)")
            }
            guard range.contains(number) else {
                throw ModelError.outOfRange(field: rawValue, value: value, range: "\(range.lowerBound)-\(range.upperBound)")
            }
            return String(number)
        case let .choice(values):
            guard let number = Int(value), values.contains(number) else {
                throw ModelError.outOfRange(field: rawValue, value: value, range: "one of \(definition.kind.allowed)")
            }
            return String(number)
        case .money:
            do { return try Money(parsing: value).formatted() } catch {
                throw ModelError.invalid(field: rawValue, value: raw, expected: "a decimal amount")
            }
        case let .text(maxLength):
            guard value.count <= maxLength, !value.contains(where: { $0.isNewline }) else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: definition.kind.allowed)
            }
            return value
        case .portList:
            let ports = value.split(separator: ",").map { $0.trimmingSpaces }
            guard !ports.isEmpty, ports.allSatisfy({ Int($0).map { (1...65535).contains($0) } ?? false }) else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: definition.kind.allowed)
            }
            return ports.joined(separator: ",")
        case .prefixList:
            var prefixes: [String] = []
            for item in value.split(separator: ",") {
                prefixes.append(try IPPrefix(parsing: item.trimmingSpaces, field: rawValue).description)
            }
            return prefixes.joined(separator: ",")
        case .wordList:
            let words = value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
            guard words.allSatisfy({ word in word.count <= 64 && !word.contains(where: { $0 == "\"" || $0.isNewline }) }) else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: "comma-separated words of at most 64 characters, no quotes")
            }
            return words.joined(separator: ",")
        case .optionalAddress:
            guard !value.isEmpty else { return "" }
            return try IPAddress(parsing: value, field: rawValue).description
        case .optionalEndpoint:
            guard !value.isEmpty else { return "" }
            let bracketed = value.hasPrefix("[")
            guard let colon = value.lastIndex(of: ":"), !bracketed || value[..<colon].hasSuffix("]"),
                  let port = Int(value[value.index(after: colon)...]), (1...65535).contains(port) else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: definition.kind.allowed)
            }
            let host = bracketed ? value[value.index(after: value.startIndex)..<value.index(before: colon)] : value[..<colon]
            let address = try IPAddress(parsing: String(host), field: rawValue)
            guard bracketed || address.isIPv4 else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: "an IPv6 address in brackets, e.g. [2001:db8::1]:9060")
            }
            return "\(address.uriHost):\(port)"
        case .addressMap:
            return try AddressMap(parsing: value, field: rawValue).description
        case let .choiceList(choices):
            var chosen: [String] = []
            for item in value.split(separator: ",") {
                let word = item.trimmingSpaces
                guard let known = choices.first(where: { $0.lowercased() == word.lowercased() }) else {
                    throw ModelError.invalid(field: rawValue, value: raw, expected: definition.kind.allowed)
                }
                guard !chosen.contains(known) else {
                    throw ModelError.invalid(field: rawValue, value: raw, expected: "each of \(choices.joined(separator: ", ")) at most once")
                }
                chosen.append(known)
            }
            guard !chosen.isEmpty else { throw ModelError.invalid(field: rawValue, value: raw, expected: definition.kind.allowed) }
            return chosen.joined(separator: ",")
        case let .word(words):
            guard let known = words.first(where: { $0.lowercased() == value.lowercased() }) else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: definition.kind.allowed)
            }
            return known
        case .timeZone:
            guard !value.isEmpty else { return "" }
            guard TimeZoneName.isInstalled(value) else {
                throw ModelError.invalid(field: rawValue, value: raw, expected: definition.kind.allowed + " (installed under /usr/share/zoneinfo)")
            }
            return value
        }
    }
}
