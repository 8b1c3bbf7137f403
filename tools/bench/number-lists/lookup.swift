// What number lists add to one call's setup, measured in-process without the noise of a shared
// VM: `Admission.refusal` (mapping gateway) and `RoutePlanner.plan` (routing gateway) for the
// same calls with no lists, and with a 1M black list (caller and callee) and a 1M white list
// (callee) on both gateways. run.sh compiles this with VOSModel's sources and Softswitch's
// Admission, RoutePlanner and NumberScreening (their `import VOSModel` removed) into one
// optimised program, so it needs no package build. Output, last line:
//   lookup_ns_per_call none: X lists: Y added: Z
// Times are this thread's CPU time (others' processes on a shared VM do not inflate them).
#if canImport(Glibc)
import Glibc
#endif

func threadCPUNanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

let size = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let iterations = 1_000_000

func packed(_ first: Int, _ count: Int) -> NumberSet {
    NumberSet(unordered: (0..<count).compactMap { PackedNumber(String(first + $0)) })
}

var started = ContinuousClock.now
let black = NumberList(name: "bench-black", kind: .black, target: .both, numbers: packed(447_800_000_000, size))
let white = NumberList(name: "bench-white", kind: .white, target: .callee,
                       numbers: packed(442_000_000_000, size).union(NumberSet(unordered: [PackedNumber("4420123")].compactMap { $0 })))
var mapping = MappingGateway(name: "customer", ips: [])
mapping.listGroups = ["bench-black", "bench-white"]
var routing = RoutingGateway(name: "vendor", address: SIPAddress(host: "127.0.0.3"), prefixes: ["44"])
routing.listGroups = ["bench-black", "bench-white"]
let listsMade = ContinuousClock.now - started
started = ContinuousClock.now
let screened = NumberScreening(mapping: [mapping], routing: [routing], lists: [black, white], groups: [])
let screeningBuilt = ContinuousClock.now - started

// Callers not in the black list (a full-depth search), callees in the white list (found).
var generator = SystemRandomNumberGenerator()
let callers = (0..<4096).map { _ in String(447_900_000_000 + Int.random(in: 0..<size, using: &generator)) }
let callees = (0..<4096).map { _ in String(442_000_000_000 + Int.random(in: 0..<(size - 1), using: &generator)) }

/// Nanoseconds per call for `iterations` calls; counts the calls refused or without a route.
func run(_ screening: NumberScreening) -> (nanoseconds: Double, refused: Int) {
    var refused = 0
    let screen = screening.mapping[mapping.name]
    let start = threadCPUNanoseconds()
    for index in 0..<iterations {
        let caller = callers[index & 4095], callee = callees[(index &* 7) & 4095]
        let call = Admission.Call(gateway: mapping, caller: caller, calleeReceived: callee, callee: callee, activeCalls: 0,
                                  callerAfterPlan: caller)
        if Admission.refusal(call, screen: screen, globalCPS: { .admitted }, gatewayCPS: { .admitted }) != nil { refused += 1 }
        let route = RoutePlanner.plan(for: callee, caller: caller, among: [routing], screening: screening, status: { _ in GatewayStatus() })
        if route.candidates.isEmpty { refused += 1 }
    }
    return ((threadCPUNanoseconds() - start) / Double(iterations), refused)
}

print("lists of \(size) numbers made in \(listsMade), screening built in \(screeningBuilt)")
var none: [Double] = [], lists: [Double] = []
for round in 1...3 {
    let without = run(.none), with = run(screened)
    none.append(without.nanoseconds)
    lists.append(with.nanoseconds)
    let line = "round \(round): none \(Int(without.nanoseconds)) ns/call, lists \(Int(with.nanoseconds)) ns/call"
    print(line + " (refused or unrouted: \(without.refused), \(with.refused))")
}
let noneMedian = none.sorted()[1], listsMedian = lists.sorted()[1]
print("lookup_ns_per_call none: \(Int(noneMedian)) lists: \(Int(listsMedian)) added: \(Int(listsMedian - noneMedian))")
