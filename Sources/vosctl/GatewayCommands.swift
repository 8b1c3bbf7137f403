import ArgumentParser
import VOSModel
import VOSStore

struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Mapping (customer) and routing (vendor) gateways.",
        subcommands: [GatewayAdd.self, GatewaySet.self, GatewayShow.self, GatewayList.self, GatewayRemove.self, GatewayStatus.self,
                      GatewayUnsuspend.self])
}

/// Options shared by `gateway add` and `gateway set`. Each applies to one kind of gateway (or
/// both); giving one to the other kind is an error rather than silently ignored. Lists and
/// optional values are cleared with an empty argument (`--caller-rewrite ''`).
struct GatewayFields: ParsableArguments {
    // Mapping
    @Option(help: "Customer source IPs, comma-separated (mapping).") var ip: String?
    @Option(help: "Source port for --auth ip-port (mapping).") var port: Int?
    @Option(help: "Account billed for the customer's calls, '' for none (mapping).") var account: String?
    @Option(help: "Concurrent calls, 0 = unlimited (mapping).") var concurrent: Int?
    @Option(help: "How the customer is identified: ip, ip-port or password (SIP digest; mapping).") var auth: MappingGateway.Authentication?
    @Option(help: "Digest username for --auth password (mapping).") var username: String?
    @Option(help: "Digest password for --auth password; stored only as hashes, never shown (mapping). Prefer --password-file.")
    var password: String?
    @Option(name: .customLong("password-file"), help: "File whose first line is the digest password (mapping).")
    var passwordFile: String?
    @Option(name: .customLong("caller-source"), help: "Where the caller number is read: from|rpid|display|pai (mapping).")
    var callerSource: MappingGateway.CallerNumberSource?
    @Option(name: .customLong("support-privacy"), help: "Honour the customer's Privacy header (passed on by routing gateways with --privacy passthrough): on|off (mapping, default off).")
    var supportPrivacy: OnOff?
    @Option(name: .customLong("trusted-identity"), help: "Trust the customer's own P-Asserted-Identity/P-Preferred-Identity (passed on by routing gateways with --pai/--ppi passthrough): on|off (mapping, default off).")
    var trustedIdentity: OnOff?
    // Routing
    @Option(help: "Vendor address HOST:PORT (routing).") var address: String?
    @Option(help: "Transport to the vendor: udp or tcp (routing).") var transport: SIPAddress.Transport?
    @Option(help: "Callee prefixes, comma-separated (routing).") var prefix: String?
    @Option(help: "Priority, 1 = highest (routing).") var priority: Int?
    @Option(name: .customLong("line-limit"), help: "Concurrent calls, 0 = unlimited (routing).") var lineLimit: Int?
    @Option(name: .customLong("switch-until-connect"), help: "Fail over to the next gateway until one connects: on|off (routing).") var switchUntilConnect: OnOff?
    @Option(name: .customLong("protect-route"), help: "Backup used only when the others are unusable: on|off (routing).") var protectRoute: OnOff?
    @Option(name: .customLong("options-check"), help: "Probe with OPTIONS and skip when offline: on|off (routing).") var optionsCheck: OnOff?
    @Option(name: .customLong("stop-codes"), help: "SIP codes that stop failover, comma-separated, or 'default' (routing).") var stopCodes: String?
    @Option(name: .customLong("clearing-account"), help: "Vendor account for vendor-side rating, '' for none (routing).") var clearingAccount: String?
    @Option(help: "P-Asserted-Identity to the vendor: none|passthrough|caller (routing).") var pai: RoutingGateway.IdentityHeaderMode?
    @Option(help: "Privacy to the vendor: none|passthrough|id (routing).") var privacy: RoutingGateway.PrivacyMode?
    @Option(help: "P-Preferred-Identity to the vendor: none|passthrough|caller (routing).") var ppi: RoutingGateway.IdentityHeaderMode?
    @Option(name: .customLong("caller-pool"), help: "Numbers that replace the caller in From and P-Asserted-Identity, comma-separated, '' for no pool (routing).")
    var callerPool: String?
    @Option(name: .customLong("pool-multiplexes"), help: "Concurrent calls per caller pool number, 0 = unlimited (routing, default 1).")
    var poolMultiplexes: Int?
    @Option(name: .customLong("user-phone"), help: "Add ;user=phone to the Request-URI and To: on|off (routing, default off).")
    var userPhone: OnOff?
    @Option(name: .customLong("header"), help: "A header line 'Name: value' added to every INVITE to this gateway; repeat for more, '' clears them (routing).")
    var headers: [String] = []
    @Option(name: .customLong("forward-headers"), help: "The customer's other INVITE headers sent on: all, none, or names comma-separated (routing, default none).")
    var forwardHeaders: String?
    @Option(help: "A vendor's 3xx: fail (an ordinary failure, default) or follow (its Contact as a new attempt of the call) (routing).")
    var redirects: VendorSignalling.Redirects?
    @Option(help: "Route schedule: the gateway is tried only while it is active (routing; `vosctl schedule`).") var schedule: String?
    @Flag(name: .customLong("no-schedule"), help: "Take the gateway off its schedule: tried at all times (routing).") var noSchedule = false
    @Option(help: "Gateway group whose line limit and reserved lines this gateway shares (routing; `vosctl group`).") var group: String?
    @Flag(name: .customLong("no-group"), help: "Take the gateway out of its group (routing).") var noGroup = false
    @Option(help: .hidden) var strip: Int?
    @Option(name: .customLong("add-prefix"), help: .hidden) var addPrefix: String?
    // Both
    /// Prefix filters (with @number-group entries) and number lists.
    @OptionGroup var screening: GatewayScreeningOptions
    @Option(help: "Calls per second, 0 = unlimited.") var cps: Int?
    @Option(name: .customLong("caller-rewrite"), help: "Caller dial plan: FROM:TO rules, comma-separated, first match wins ('' for none); see `gateway add --help`.")
    var callerRewrite: String?
    @Option(name: .customLong("callee-rewrite"), help: "Callee dial plan: FROM:TO rules, comma-separated, first match wins ('' for none).")
    var calleeRewrite: String?
    @Option(name: .customLong("conversation-limit"), help: "Longest call in seconds, 0 = none.") var conversationLimit: Int?
    @Option(name: .customLong("media-proxy"), help: "Override SS_MEDIAPROXYMODE: off|on|auto|must-on, or 'system'.") var mediaProxy: String?
    @Option(help: "Accept or send calls: on|off.") var enabled: OnOff?
    @Option(help: "IP shown to this gateway in Via, Contact and SDP (a NAT's public address), or '' to clear: the route's source address, through SS_ADVERTISED_ADDRESSES.")
    var advertise: String?
    @Option(name: .customLong("session-timer"), help: "RFC 4028 session timers on this gateway's legs: on|off (default on).")
    var sessionTimer: OnOff?
    @Option(name: .customLong("100rel"), help: "RFC 3262 reliable provisional responses on this gateway's legs: off|supported|require (default supported).")
    var reliableProvisional: ReliableProvisionalMode?
    // Both: codecs and DTMF (requirements §6); '' puts each back to its default.
    @Option(name: .customLong("codecs"), help: "Codecs in preference order, comma-separated, of PCMA, PCMU, G729 ('' for PCMA,PCMU,G729).")
    var codecList: String?
    @Option(name: .customLong("codec-mode"), help: "auto (SDP offer/answer, 488 with no common codec), specified (only the first of --codecs) or convert (transcode when both gateways of a call say convert); '' for auto.")
    var codecMode: Resettable<CodecSettings.Mode>?
    @Option(name: .customLong("g729-annexb"), help: "G.729 annex B (silence suppression) on this gateway's legs: on|off ('' for off).")
    var g729AnnexB: Resettable<OnOff>?
    @Option(name: .customLong("g729-mode"), help: "G.729 variant: auto|g729|g729a|both ('' for auto).")
    var g729Mode: Resettable<CodecSettings.G729Mode>?
    @Option(name: .customLong("dtmf-receive"), help: "DTMF methods accepted from this gateway: all|rfc2833|info|inband ('' for all).")
    var dtmfReceive: Resettable<DTMFSettings.ReceiveMethod>?
    @Option(name: .customLong("dtmf-send"), help: "DTMF to this gateway: auto (RFC 2833 when its SDP has telephone-event, else SIP INFO, else inband on G.711)|rfc2833|info|inband ('' for auto).")
    var dtmfSend: Resettable<DTMFSettings.SendMethod>?
    @Option(name: .customLong("rfc2833-payload-type"), help: "RFC 2833 telephone-event payload type, 96-127 ('' for 101).")
    var rfc2833PayloadType: Resettable<Int>?
    @Option(name: .customLong("rfc2833-events"), help: "RFC 2833 events offered, LOW-HIGH within 0-255 ('' for 0-16).")
    var rfc2833Events: String?
    @Option(name: .customLong("use-peer-rfc2833"), help: "Send RFC 2833 with the payload type the gateway declared when it differs from --rfc2833-payload-type: on|off ('' for on).")
    var usePeerRFC2833: Resettable<OnOff>?
    @Option(name: .customLong("inband-dtmf"), help: "The gateway's audio carries DTMF tones to detect (G.711 only): on|off ('' for off).")
    var inbandDTMF: Resettable<OnOff>?
    @Option(name: .customLong("must-inband-send"), help: "Always send DTMF to this gateway as tones in its audio: on|off ('' for off).")
    var mustInbandSend: Resettable<OnOff>?

    private var mappingOnly: [(String, Bool)] {
        [("--ip", ip != nil), ("--port", port != nil), ("--account", account != nil),
         ("--concurrent", concurrent != nil), ("--auth", auth != nil), ("--caller-source", callerSource != nil),
         ("--username", username != nil), ("--password", password != nil), ("--password-file", passwordFile != nil),
         ("--support-privacy", supportPrivacy != nil), ("--trusted-identity", trustedIdentity != nil)]
    }

    private var routingOnly: [(String, Bool)] {
        [("--address", address != nil), ("--transport", transport != nil), ("--prefix", prefix != nil),
         ("--priority", priority != nil), ("--line-limit", lineLimit != nil),
         ("--switch-until-connect", switchUntilConnect != nil), ("--protect-route", protectRoute != nil),
         ("--options-check", optionsCheck != nil), ("--stop-codes", stopCodes != nil),
         ("--clearing-account", clearingAccount != nil), ("--pai", pai != nil), ("--privacy", privacy != nil),
         ("--ppi", ppi != nil), ("--caller-pool", callerPool != nil), ("--pool-multiplexes", poolMultiplexes != nil),
         ("--user-phone", userPhone != nil), ("--header", !headers.isEmpty), ("--forward-headers", forwardHeaders != nil),
         ("--redirects", redirects != nil), ("--schedule", schedule != nil), ("--no-schedule", noSchedule),
         ("--group", group != nil), ("--no-group", noGroup)]
    }

    private var shared: [(String, Bool)] {
        screening.given + [("--cps", cps != nil), ("--caller-rewrite", callerRewrite != nil), ("--callee-rewrite", calleeRewrite != nil),
         ("--conversation-limit", conversationLimit != nil), ("--media-proxy", mediaProxy != nil),
         ("--enabled", enabled != nil), ("--advertise", advertise != nil), ("--session-timer", sessionTimer != nil),
         ("--100rel", reliableProvisional != nil), ("--codecs", codecList != nil), ("--codec-mode", codecMode != nil),
         ("--g729-annexb", g729AnnexB != nil), ("--g729-mode", g729Mode != nil), ("--dtmf-receive", dtmfReceive != nil),
         ("--dtmf-send", dtmfSend != nil), ("--rfc2833-payload-type", rfc2833PayloadType != nil),
         ("--rfc2833-events", rfc2833Events != nil), ("--use-peer-rfc2833", usePeerRFC2833 != nil),
         ("--inband-dtmf", inbandDTMF != nil), ("--must-inband-send", mustInbandSend != nil)]
    }

    func requireApplicable(to kind: GatewayKind, name: String) throws {
        if strip != nil || addPrefix != nil {
            let rule = DialPlan(strip: strip ?? 0, add: addPrefix ?? "").text
            throw ValidationError("--strip and --add-prefix were replaced by dial plans: write --callee-rewrite '\(rule)' (x matches any one character)")
        }
        let foreign = kind == .mapping ? routingOnly : mappingOnly
        if let option = foreign.first(where: { $0.1 })?.0 {
            let other = kind == .mapping ? "routing" : "mapping"
            throw ValidationError("\(option) applies to \(other) gateways; '\(name)' is a \(kind.rawValue) gateway")
        }
    }

    var isEmpty: Bool {
        !(mappingOnly + routingOnly + shared).contains(where: \.1) && strip == nil && addPrefix == nil
    }

    /// `--advertise`: nil when not given, `.some(nil)` to clear.
    private func parsedAdvertise() throws -> IPAddress?? {
        guard let advertise else { return .none }
        if advertise.allSatisfy({ $0 == " " }) { return .some(nil) }
        return .some(try IPAddress(parsing: advertise, field: "--advertise"))
    }

    private func parsedMediaProxy() throws -> MediaProxyMode?? {
        guard let mediaProxy else { return .none }
        if mediaProxy.lowercased() == "system" { return .some(nil) }
        return .some(try MediaProxyMode(parsing: mediaProxy))
    }

    /// The options both kinds take.
    private func applyShared<Gateway: SharedGatewayFields & ScreenedGateway>(to gateway: inout Gateway) throws {
        try screening.apply(to: &gateway)
        if let cps { gateway.cpsLimit = cps }
        if let callerRewrite { gateway.callerRewrite = try DialPlan(parsing: callerRewrite, field: "--caller-rewrite") }
        if let calleeRewrite { gateway.calleeRewrite = try DialPlan(parsing: calleeRewrite, field: "--callee-rewrite") }
        if let conversationLimit { gateway.conversationLimit = conversationLimit }
        if let mode = try parsedMediaProxy() { gateway.mediaProxy = mode }
        if let enabled { gateway.enabled = enabled.value }
        if let address = try parsedAdvertise() { gateway.advertise = address }
        if let sessionTimer { gateway.sessionTimer = sessionTimer.value }
        if let reliableProvisional { gateway.reliableProvisional = reliableProvisional }
        var (codecs, dtmf) = (gateway.codecs, gateway.dtmf)
        try applyMedia(to: &codecs, &dtmf)
        (gateway.codecs, gateway.dtmf) = (codecs, dtmf)
    }

    /// The codec and DTMF options; the gateway's validation (on save) checks the combination.
    private func applyMedia(to codecs: inout CodecSettings, _ dtmf: inout DTMFSettings) throws {
        let codecDefaults = CodecSettings(), dtmfDefaults = DTMFSettings()
        if let codecList { codecs.codecs = try parseCodecList(codecList, option: "--codecs") }
        if let codecMode { codecs.mode = codecMode.resolved(default: codecDefaults.mode) }
        if let g729AnnexB { codecs.annexB = g729AnnexB.resolved(default: codecDefaults.annexB) }
        if let g729Mode { codecs.g729Mode = g729Mode.resolved(default: codecDefaults.g729Mode) }
        if let dtmfReceive { dtmf.receive = dtmfReceive.resolved(default: dtmfDefaults.receive) }
        if let dtmfSend { dtmf.send = dtmfSend.resolved(default: dtmfDefaults.send) }
        if let rfc2833PayloadType { dtmf.rfc2833PayloadType = rfc2833PayloadType.resolved(default: dtmfDefaults.rfc2833PayloadType) }
        if let rfc2833Events {
            dtmf.rfc2833Events = rfc2833Events.trimmingSpaces.isEmpty ? dtmfDefaults.rfc2833Events : rfc2833Events.trimmingSpaces
        }
        if let usePeerRFC2833 { dtmf.usePeerRFC2833Capability = usePeerRFC2833.resolved(default: dtmfDefaults.usePeerRFC2833Capability) }
        if let inbandDTMF { dtmf.mediaContainsInband = inbandDTMF.resolved(default: dtmfDefaults.mediaContainsInband) }
        if let mustInbandSend { dtmf.mustUseInbandSend = mustInbandSend.resolved(default: dtmfDefaults.mustUseInbandSend) }
    }

    func apply(to gateway: inout MappingGateway) throws {
        if let ip { gateway.ips = try parseIPList(ip) }
        if let port { gateway.port = port }
        if let account { gateway.account = account.isEmpty ? nil : account }
        if let concurrent { gateway.concurrentLimit = concurrent }
        if let auth {
            gateway.authentication = auth
            // The password only ever applies to --auth password: leaving that mode drops it.
            if auth != .password { gateway.credential = nil }
        }
        if let callerSource { gateway.callerNumberSource = callerSource }
        if let supportPrivacy { gateway.supportPrivacy = supportPrivacy.value }
        if let trustedIdentity { gateway.trustedIdentity = trustedIdentity.value }
        try applyShared(to: &gateway)
    }

    func apply(to gateway: inout RoutingGateway) throws {
        if let address {
            let transport = gateway.address.transport
            gateway.address = try SIPAddress(parsing: address, field: "--address")
            gateway.address.transport = transport
        }
        if let transport { gateway.address.transport = transport }
        if let prefix { gateway.prefixes = try parsePrefixList(prefix) }
        if let priority { gateway.priority = priority }
        if let lineLimit { gateway.lineLimit = lineLimit }
        if let switchUntilConnect { gateway.switchUntilConnect = switchUntilConnect.value }
        if let protectRoute { gateway.protectRoute = protectRoute.value }
        if let optionsCheck { gateway.optionsCheck = optionsCheck.value }
        if let stopCodes { gateway.stopSwitchingCodes = try parseCodeList(stopCodes) }
        if let clearingAccount { gateway.clearingAccount = clearingAccount.isEmpty ? nil : clearingAccount }
        if let pai { gateway.pAssertedIdentity = pai }
        if let privacy { gateway.privacy = privacy }
        if let ppi { gateway.pPreferredIdentity = ppi }
        if let callerPool {
            let numbers = try parseNumberList(callerPool, option: "--caller-pool")
            gateway.callerPool = numbers.isEmpty ? nil : CallerNumberPool(numbers: numbers, multiplexes: gateway.callerPool?.multiplexes ?? 1)
        }
        if let poolMultiplexes {
            guard gateway.callerPool != nil else {
                throw ValidationError("--pool-multiplexes needs a caller number pool: give --caller-pool N1,N2,... too")
            }
            gateway.callerPool?.multiplexes = poolMultiplexes
        }
        if let userPhone { gateway.signalling.userPhone = userPhone.value }
        if !headers.isEmpty { gateway.signalling.headers = headers == [""] ? [] : headers.map { $0.trimmingSpaces } }
        if let forwardHeaders {
            switch forwardHeaders.lowercased() {
            case "", "none": gateway.signalling.forwardHeaders = nil
            case "all": gateway.signalling.forwardHeaders = ["*"]
            default: gateway.signalling.forwardHeaders = forwardHeaders.split(separator: ",").map { $0.trimmingSpaces }
            }
        }
        if let redirects { gateway.signalling.redirects = redirects }
        if schedule != nil && noSchedule { throw ValidationError("give --schedule NAME or --no-schedule, not both") }
        if group != nil && noGroup { throw ValidationError("give --group NAME or --no-group, not both") }
        if let schedule { gateway.schedule = schedule }
        if noSchedule { gateway.schedule = nil }
        if let group { gateway.group = group }
        if noGroup { gateway.group = nil }
        try applyShared(to: &gateway)
    }
}

/// The fields both kinds of gateway have, set by the same options.
protocol SharedGatewayFields {
    var cpsLimit: Int { get set }
    var callerRewrite: DialPlan { get set }
    var calleeRewrite: DialPlan { get set }
    var conversationLimit: Int { get set }
    var mediaProxy: MediaProxyMode? { get set }
    var enabled: Bool { get set }
    var advertise: IPAddress? { get set }
    var sessionTimer: Bool? { get set }
    var reliableProvisional: ReliableProvisionalMode? { get set }
    var codecs: CodecSettings { get set }
    var dtmf: DTMFSettings { get set }
}

extension MappingGateway: SharedGatewayFields {}
extension RoutingGateway: SharedGatewayFields {}

struct GatewayAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a gateway.",
        discussion: """
        vosctl gateway add mapping NAME --ip IP[,IP...] [--port N] [--account ACC] [--cps N] [--concurrent N] [--auth ip|ip-port] ...
        vosctl gateway add mapping NAME --auth password --username U (--password P | --password-file F) [--ip IP,...] [--account ACC] ...
        vosctl gateway add routing NAME --address HOST:PORT --prefix P[,P...] [--priority N] [--line-limit N] [--cps N] ...

        Dial plans (--caller-rewrite, --callee-rewrite) are comma-separated FROM:TO rules, tried in
        order, the first whose FROM the number starts with decides: 0:+880 replaces a leading 0 by
        +880; 0: strips it; :99 adds 99 to every number; x in FROM matches any one character (xxx:
        strips three); TO '!' denies (900:!). A number no rule matches is left as it is.

        Codecs: --codecs PCMA,PCMU,G729 in preference order; --codec-mode auto fails a call with
        488 when the two gateways share no codec, specified uses only the first of --codecs, and
        convert transcodes when both gateways of the call say convert. G.723 is not supported.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "mapping or routing") var kind: GatewayKind
    @Argument(help: "Gateway name (unique across both kinds).") var name: String
    @OptionGroup var fields: GatewayFields

    func run() throws {
        try runReportingErrors {
            try fields.requireApplicable(to: kind, name: name)
            let store = try global.openStore()
            switch kind {
            case .mapping:
                guard fields.ip != nil || fields.auth == .password else {
                    throw ValidationError("a mapping gateway needs --ip IP[,IP...] (or --auth password --username U --password-file F)")
                }
                var gateway = MappingGateway(name: name, ips: try fields.ip.map(parseIPList) ?? [])
                try fields.apply(to: &gateway)
                try store.write { transaction in
                    try fields.applyCredential(to: &gateway, realm: try transaction.parameters().text(.authRealm))
                    try transaction.addMappingGateway(gateway)
                }
            case .routing:
                guard let address = fields.address else { throw ValidationError("a routing gateway needs --address HOST:PORT") }
                guard let prefix = fields.prefix else { throw ValidationError("a routing gateway needs --prefix P[,P...]") }
                var gateway = RoutingGateway(name: name, address: try SIPAddress(parsing: address, field: "--address"),
                                             prefixes: try parsePrefixList(prefix))
                try fields.apply(to: &gateway)
                try store.write { transaction in
                    try transaction.addRoutingGateway(gateway)
                    // Refused here aborts the transaction, so the gateway is not added.
                    try transaction.requireScheduleAndGroup(of: gateway)
                }
            }
            print("added \(kind.rawValue) gateway \(name)")
        }
    }
}

struct GatewaySet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change fields of a gateway (same options as add).")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @OptionGroup var fields: GatewayFields

    func run() throws {
        try runReportingErrors {
            guard !fields.isEmpty else { throw ValidationError("nothing to change: give at least one --FIELD VALUE") }
            let store = try global.openStore()
            try store.write { transaction in
                if var gateway = try transaction.mappingGateway(named: name) {
                    try fields.requireApplicable(to: .mapping, name: name)
                    try fields.apply(to: &gateway)
                    try fields.applyCredential(to: &gateway, realm: try transaction.parameters().text(.authRealm))
                    try transaction.saveMappingGateway(gateway)
                } else if var gateway = try transaction.routingGateway(named: name) {
                    try fields.requireApplicable(to: .routing, name: name)
                    try fields.apply(to: &gateway)
                    try transaction.saveRoutingGateway(gateway)
                    try transaction.requireScheduleAndGroup(of: gateway)
                } else {
                    throw StoreError.notFound(kind: "gateway", name: name)
                }
            }
            print("updated gateway \(name)")
        }
    }
}

struct GatewayShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show every field of a gateway.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Flag(help: "Print JSON.") var json = false

    struct Shown<Gateway: Encodable>: Encodable {
        let kind: String
        let gateway: Gateway
    }

    func run() throws {
        try runReportingErrors {
            let store = try global.openStore()
            let (mapping, routing) = try store.read { (try $0.mappingGateway(named: name), try $0.routingGateway(named: name)) }
            if let mapping {
                let suspension = try store.read { try $0.gatewaySuspensions().first { $0.gateway == mapping.name } }
                if json { return try printJSON(Shown(kind: "mapping", gateway: mapping.withHiddenPassword)) }
                printTable(["FIELD", "VALUE"], GatewayRows.detail(mapping) + GatewayRows.authentication(mapping, suspension: suspension))
            } else if let routing {
                if json { return try printJSON(Shown(kind: "routing", gateway: routing)) }
                printTable(["FIELD", "VALUE"], GatewayRows.detail(routing))
            } else {
                throw StoreError.notFound(kind: "gateway", name: name)
            }
        }
    }
}

struct GatewayList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List gateways.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only mapping or only routing gateways.") var kind: GatewayKind?
    @Flag(help: "Print JSON.") var json = false

    struct Listing: Encodable {
        let mapping: [MappingGateway]
        let routing: [RoutingGateway]
    }

    func run() throws {
        try runReportingErrors {
            let store = try global.openStore()
            let listing = try store.read { transaction in
                Listing(mapping: kind == .routing ? [] : try transaction.mappingGateways(),
                        routing: kind == .mapping ? [] : try transaction.routingGateways())
            }
            if json { return try printJSON(Listing(mapping: listing.mapping.map(\.withHiddenPassword), routing: listing.routing)) }
            if kind != .routing {
                printTable(["MAPPING", "IPS", "PORT", "AUTH", "ACCOUNT", "CPS", "CONCURRENT", "ENABLED"],
                           listing.mapping.map(GatewayRows.summary))
            }
            if kind == nil { print("") }
            if kind != .mapping {
                printTable(["ROUTING", "ADDRESS", "PREFIXES", "PRIORITY", "LINE-LIMIT", "CPS", "SWITCH", "PROTECT", "OPTIONS", "ENABLED"],
                           listing.routing.map(GatewayRows.summary))
            }
        }
    }
}

struct GatewayRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a gateway.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeGateway(named: name) }
            print("removed gateway \(name)")
        }
    }
}

enum GatewayRows {
    static func limit(_ value: Int) -> String { value == 0 ? "unlimited" : String(value) }

    static func summary(_ gateway: MappingGateway) -> [String] {
        [gateway.name, gateway.ips.map(\.description).joined(separator: ","), String(gateway.port),
         gateway.authentication.rawValue, gateway.account ?? "-", limit(gateway.cpsLimit),
         limit(gateway.concurrentLimit), onOff(gateway.enabled)]
    }

    static func summary(_ gateway: RoutingGateway) -> [String] {
        [gateway.name, "\(gateway.address)/\(gateway.address.transport.rawValue)", gateway.prefixes.joined(separator: ","),
         String(gateway.priority), limit(gateway.lineLimit), limit(gateway.cpsLimit), onOff(gateway.switchUntilConnect),
         onOff(gateway.protectRoute), onOff(gateway.optionsCheck), onOff(gateway.enabled)]
    }

    static func advertise(_ address: IPAddress?) -> String {
        address?.description ?? "route source (SS_ADVERTISED_ADDRESSES)"
    }

    static func mediaProxy(_ mode: MediaProxyMode?) -> String {
        mode.map { "\($0.rawValue) (\($0))" } ?? "system (SS_MEDIAPROXYMODE)"
    }

    static func list(_ items: [String], empty: String = "-") -> String { items.isEmpty ? empty : items.joined(separator: ",") }

    static func dialPlan(_ plan: DialPlan) -> String { plan.isEmpty ? "- (numbers unchanged)" : plan.text }

    static func seconds(_ value: Int) -> String { value == 0 ? "none" : "\(value)s" }

    /// The codec and DTMF rows, the same for both kinds.
    static func media(_ codecs: CodecSettings, _ dtmf: DTMFSettings) -> [[String]] {
        [["codecs", codecs.codecs.map(\.rawValue).joined(separator: ",")], ["codec-mode", codecs.mode.rawValue],
         ["g729-annexb", onOff(codecs.annexB)], ["g729-mode", codecs.g729Mode.rawValue],
         ["dtmf-receive", dtmf.receive.rawValue], ["dtmf-send", dtmf.send.rawValue],
         ["rfc2833-payload-type", String(dtmf.rfc2833PayloadType)], ["rfc2833-events", dtmf.rfc2833Events],
         ["use-peer-rfc2833", onOff(dtmf.usePeerRFC2833Capability)], ["inband-dtmf", onOff(dtmf.mediaContainsInband)],
         ["must-inband-send", onOff(dtmf.mustUseInbandSend)]]
    }

    /// Every stored field, named by the option that sets it.
    static func detail(_ gateway: MappingGateway) -> [[String]] {
        [["kind", "mapping"], ["name", gateway.name], ["ip", gateway.ips.map(\.description).joined(separator: ",")],
         ["port", String(gateway.port)], ["auth", gateway.authentication.rawValue], ["account", gateway.account ?? "-"],
         ["cps", limit(gateway.cpsLimit)], ["concurrent", limit(gateway.concurrentLimit)],
         ["conversation-limit", seconds(gateway.conversationLimit)],
         ["caller-source", gateway.callerNumberSource.rawValue], ["trusted-identity", onOff(gateway.trustedIdentity)],
         ["support-privacy", onOff(gateway.supportPrivacy)],
         ["caller-rewrite", dialPlan(gateway.callerRewrite)], ["callee-rewrite", dialPlan(gateway.calleeRewrite)],
         ] + GatewayScreeningOptions.rows(caller: gateway.callerFilter, callee: gateway.calleeFilter, lists: gateway.listGroups) + [
         ["media-proxy", mediaProxy(gateway.mediaProxy)], ["advertise", advertise(gateway.advertise)],
         ["session-timer", onOff(gateway.usesSessionTimer)], ["100rel", gateway.reliableProvisionalMode.rawValue]]
            + media(gateway.codecs, gateway.dtmf) + [["enabled", onOff(gateway.enabled)]]
    }

    static func detail(_ gateway: RoutingGateway) -> [[String]] {
        [["kind", "routing"], ["name", gateway.name], ["address", gateway.address.description],
         ["transport", gateway.address.transport.rawValue], ["prefix", gateway.prefixes.joined(separator: ",")],
         ["priority", String(gateway.priority)], ["line-limit", limit(gateway.lineLimit)], ["cps", limit(gateway.cpsLimit)],
         ["switch-until-connect", onOff(gateway.switchUntilConnect)],
         ["stop-codes", gateway.stopSwitchingCodes.map { $0.map(String.init).joined(separator: ",") } ?? "default (4xx except 408/480, 6xx)"],
         ["protect-route", onOff(gateway.protectRoute)], ["options-check", onOff(gateway.optionsCheck)],
         ["caller-rewrite", dialPlan(gateway.callerRewrite)], ["callee-rewrite", dialPlan(gateway.calleeRewrite)],
         ["caller-pool", gateway.callerPool.map { list($0.numbers) } ?? "- (caller kept)"],
         ["pool-multiplexes", gateway.callerPool.map { limit($0.multiplexes) } ?? "-"],
         ["pai", gateway.pAssertedIdentity.rawValue], ["privacy", gateway.privacy.rawValue], ["ppi", gateway.pPreferredIdentity.rawValue],
         ] + GatewayScreeningOptions.rows(caller: gateway.callerFilter, callee: gateway.calleeFilter, lists: gateway.listGroups) + [
         ["clearing-account", gateway.clearingAccount ?? "-"], ["conversation-limit", seconds(gateway.conversationLimit)],
         ["media-proxy", mediaProxy(gateway.mediaProxy)], ["advertise", advertise(gateway.advertise)],
         ["session-timer", onOff(gateway.usesSessionTimer)], ["100rel", gateway.reliableProvisionalMode.rawValue],
         ["user-phone", onOff(gateway.signalling.userPhone)],
         ["header", gateway.signalling.headers.isEmpty ? "-" : gateway.signalling.headers.joined(separator: " | ")],
         ["forward-headers", gateway.signalling.forwardHeaders.map { $0 == ["*"] ? "all" : $0.joined(separator: ",") } ?? "none"],
         ["redirects", gateway.signalling.redirects.rawValue],
         ["schedule", gateway.schedule ?? "- (always)"], ["group", gateway.group ?? "-"]]
            + media(gateway.codecs, gateway.dtmf) + [["enabled", onOff(gateway.enabled)]]
    }
}
