// Route selection at wholesale scale (issue 16's target: 100k prefixes, 50 gateways per prefix,
// LCR under 20 µs per call), in-process: run.sh compiles VOSModel and Softswitch's routing files
// as the modules they are (-O, whole module each, so calls between them cost what they cost in
// the controller) and this program against them.
//
// Per call, as the controller does it: `RoutePlanner.plan` over the `RouteIndex` (sort rule
// lookup, matches, dial plans, schedule, prices, quality, sort, candidates), `FailoverPlan(route:)`
// and its first `next`. Gateway status and quality are dictionary lookups by name. "old linear"
// is the planner before the index, copied here verbatim: every gateway's every prefix per call.
// Times are this thread's CPU time, so other processes on a shared VM do not inflate them.
//
// Prefixes are random digit strings of 4 to 8 digits. Flat (NESTED 0): none is a prefix of
// another, so a call matches exactly PER_PREFIX gateways. Nested (NESTED 1): drawn freely, so at
// 100k the 4- and 5-digit prefixes under most longer ones exist too and a call matches the
// gateways of two or three nested prefixes (as with real rate decks: 44, 447, 4479...).
//
// Usage: bench PREFIXES PER_PREFIX VENDORS CALLS LEGACY_CALLS SEED NESTED
#if canImport(Glibc)
import Glibc
#endif
import Softswitch
import VOSModel

func threadCPUNanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

func residentMegabytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
    let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

let arguments = CommandLine.arguments.dropFirst().map { Int($0) ?? 0 }
func argument(_ index: Int, _ fallback: Int) -> Int { index < arguments.count && arguments[index] > 0 ? arguments[index] : fallback }
let prefixCount = argument(0, 100_000)
let perPrefix = argument(1, 50)
let vendorCount = max(argument(2, 500), perPrefix)
let calls = argument(3, 20_000)
let legacyCalls = argument(4, 20)
var random = SeededGenerator(seed: UInt64(argument(5, 16)))
let nested = arguments.count > 6 && arguments[6] == 1

// MARK: Configuration

var started = threadCPUNanoseconds()
var prefixSet = Set<String>()
/// Flat: every proper prefix of a prefix taken, so none taken later extends or shortens another.
var interior = Set<String>()
var prefixes: [String] = []
while prefixes.count < prefixCount {
    let length = Int.random(in: 4...8, using: &random)
    let text = String(Int.random(in: 1...9, using: &random)) + String((1..<length).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
    if !nested {
        let shorter = (1..<text.count).map { String(text.prefix($0)) }
        guard !interior.contains(text), !shorter.contains(where: prefixSet.contains) else { continue }
        interior.formUnion(shorter)
    }
    if prefixSet.insert(text).inserted { prefixes.append(text) }
}
interior = []
var vendorPrefixes = [[String]](repeating: [], count: vendorCount)
var vendorDecks = [[RateEntry]](repeating: [], count: vendorCount)
var chosen = [Int](repeating: -1, count: vendorCount)
for (number, prefix) in prefixes.enumerated() {
    var picked = 0
    while picked < perPrefix {
        let vendor = Int.random(in: 0..<vendorCount, using: &random)
        guard chosen[vendor] != number else { continue }
        chosen[vendor] = number
        picked += 1
        vendorPrefixes[vendor].append(prefix)
        // 0.0010 to 0.0500 a minute: equal prices happen, so ties are sorted too.
        vendorDecks[vendor].append(RateEntry(prefix: prefix, pricePerMinute: Money(units: Int64.random(in: 10...500, using: &random))))
    }
}
var gateways: [RoutingGateway] = []
var active: [String: Int] = [:]
for vendor in 0..<vendorCount {
    let name = "vendor-\(vendor)"
    var gateway = RoutingGateway(name: name, address: SIPAddress(host: "192.0.2.\(vendor % 250 + 1)"), prefixes: vendorPrefixes[vendor])
    gateway.priority = Int.random(in: 1...5, using: &random)
    gateway.lineLimit = Bool.random(using: &random) ? 0 : Int.random(in: 100...500, using: &random)
    gateway.clearingAccount = "account-\(vendor)"
    gateways.append(gateway)
    active[name] = Int.random(in: 0...80, using: &random)
}
let generated = (threadCPUNanoseconds() - started) / 1e9

started = threadCPUNanoseconds()
let decks = vendorDecks.enumerated().map { RateIndex(name: "deck-\($0.offset)", entries: $0.element) }
let ratesBuilt = (threadCPUNanoseconds() - started) / 1e9
started = threadCPUNanoseconds()
let index = RouteIndex(gateways: gateways, vendorRates: { gateway in
    gateway.clearingAccount.flatMap { Int($0.dropFirst("account-".count)) }.map { decks[$0] }
})
let indexBuilt = (threadCPUNanoseconds() - started) / 1e9
vendorDecks = []
vendorPrefixes = []

let quality = GatewayQuality(settings: .init(windowSeconds: 3600, sliceSeconds: 300, minimumCalls: 20))
let now: UInt64 = 10_000 * 1_000_000_000
for gateway in gateways {
    for _ in 0..<Int.random(in: 0...60, using: &random) {
        let answered = Int.random(in: 0..<100, using: &random) < 45
        quality.record(gateway.name, answered: answered, talkSeconds: answered ? Int.random(in: 1...600, using: &random) : 0,
                       now: now - UInt64.random(in: 0...1800, using: &random) * 1_000_000_000)
    }
}

let callees: [String] = (0..<8192).map { _ in
    let prefix = prefixes.randomElement(using: &random) ?? "1"
    return prefix + String((prefix.count..<12).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
}
prefixes = []
prefixSet = []

func status(_ name: String) -> GatewayStatus { GatewayStatus(activeCalls: active[name] ?? 0) }

// MARK: The planner before the index (verbatim)

func legacyPlan(for callee: String, caller: String? = nil, among gateways: [RoutingGateway],
                screening: NumberScreening, status: (String) -> GatewayStatus) -> RoutePlan {
    var matched: [(candidate: RouteCandidate, load: Double)] = []
    var prefixMatches = 0
    var screenedOut: [String] = []
    for gateway in gateways where gateway.enabled {
        guard let prefix = gateway.prefixes.filter({ callee.hasPrefix($0) }).max(by: { $0.count < $1.count }) else { continue }
        prefixMatches += 1
        guard case let .number(calleeOut) = gateway.calleeRewrite.apply(to: callee) else { continue }
        var callerOut: String?
        if let caller {
            guard case let .number(number) = gateway.callerRewrite.apply(to: caller) else { continue }
            callerOut = number
        }
        if !screening.routing.isEmpty, let screen = screening.routing[gateway.name],
           !screen.permitsFilters(caller: caller, callee: callee)
            || !screen.permitsLists(caller: caller, callerAfterPlan: callerOut, callee: callee, calleeAfterPlan: calleeOut) {
            screenedOut.append(gateway.name)
            continue
        }
        let active = status(gateway.name).activeCalls
        let load = gateway.lineLimit > 0 ? Double(active) / Double(gateway.lineLimit) : Double(active) / 1_000_000
        matched.append((RouteCandidate(gateway: gateway, matchedPrefix: prefix, calleeOut: calleeOut, callerOut: callerOut), load))
    }
    matched.sort { lhs, rhs in
        if lhs.candidate.matchedPrefix.count != rhs.candidate.matchedPrefix.count {
            return lhs.candidate.matchedPrefix.count > rhs.candidate.matchedPrefix.count
        }
        if lhs.candidate.gateway.priority != rhs.candidate.gateway.priority {
            return lhs.candidate.gateway.priority < rhs.candidate.gateway.priority
        }
        if lhs.load != rhs.load { return lhs.load < rhs.load }
        return lhs.candidate.gateway.name < rhs.candidate.gateway.name
    }
    return RoutePlan(candidates: matched.map(\.candidate), screenedOut: screenedOut,
                     refusedByScreening: prefixMatches > 0 && screenedOut.count == prefixMatches)
}

// MARK: Measurement

struct Row {
    let name: String
    let microseconds: Double
    let candidates: Double
}

/// Microseconds of CPU per call (median of 5 rounds) and candidates per call.
func measure(_ name: String, calls: Int, _ route: (String) -> RoutePlan) -> Row {
    var candidates = 0
    var rounds: [Double] = []
    var sink = 0
    for call in 0..<min(calls, 512) { sink &+= route(callees[call & 8191]).candidates.count }  // warm-up
    for round in 0..<5 {
        candidates = 0
        let start = threadCPUNanoseconds()
        for call in 0..<calls {
            let plan = route(callees[(call &+ round &* 977) & 8191])
            var failover = FailoverPlan(route: plan, switchLimit: 5)
            if case let .tryGateway(first) = failover.next(status: status) { sink &+= first.matchedPrefix.utf8.count }
            candidates += plan.candidates.count
        }
        rounds.append((threadCPUNanoseconds() - start) / Double(calls) / 1000)
    }
    if sink == -1 { print("unreachable") }
    rounds.sort()
    return Row(name: name, microseconds: rounds[2], candidates: Double(candidates) / Double(calls))
}

func indexed(_ sort: RoutingSort, customerRate: RateEntry? = nil) -> (String) -> RoutePlan {
    let options = RouteOptions(systemSort: sort, customerRate: customerRate)
    return { callee in
        RoutePlanner.plan(for: callee, index: index, options: options, status: status,
                          quality: { quality.score($0, now: now) }, isScheduled: { _ in true })
    }
}

var rows: [Row] = []
rows.append(measure("priority", calls: calls, indexed(.priority)))
rows.append(measure("lcr", calls: calls, indexed(.lcr)))
rows.append(measure("quality", calls: calls, indexed(.quality)))
rows.append(measure("mix", calls: calls, indexed(.mix)))
rows.append(measure("lcr + margin protection", calls: calls, indexed(.lcr, customerRate: RateEntry(prefix: "1", pricePerMinute: Money(units: 250)))))
rows.append(measure("old linear planner (priority)", calls: legacyCalls) { callee in
    legacyPlan(for: callee, among: gateways, screening: .none, status: status)
})

let statistics = index.statistics
print("Routing benchmark, \(nested ? "nested" : "flat") prefixes: \(prefixCount) prefixes x \(perPrefix) gateways each over \(vendorCount) vendors (\(statistics.entries) index entries), each vendor's rate deck its own prefixes; \(calls) calls a mode (old linear: \(legacyCalls)), median of 5 rounds, thread CPU time")
print("setup: generate \(format1(generated)) s, rate indexes \(format1(ratesBuilt)) s, route index \(format1(indexBuilt)) s, resident \(residentMegabytes()) MiB")
print("")
print("| mode | µs per call | ratio to priority | candidates per call |")
print("|---|---|---|---|")
let base = rows[0].microseconds
for row in rows {
    print("| \(row.name) | \(format2(row.microseconds)) | \(format2(row.microseconds / base)) | \(format1(row.candidates)) |")
}

func format1(_ value: Double) -> String { formatted(value, digits: 1) }
func format2(_ value: Double) -> String { formatted(value, digits: 2) }
func formatted(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale), fraction = String(scaled % Int(scale))
    return "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
}
