import Testing
import VOSModel
import VOSTestSupport
@testable import Softswitch

@Suite struct CallerPoolAllocatorTests {
    let pool = CallerNumberPool(numbers: ["8801", "8802", "8803"], multiplexes: 2)

    func take(_ allocator: inout CallerPoolAllocator, _ pool: CallerNumberPool, order: CallerPoolAllocator.Order,
              gateway: String = "bd", seed: UInt64 = 1) -> CallerPoolAllocator.Lease? {
        var generator = SeededGenerator(seed: seed)
        guard case let .leased(lease) = allocator.lease(gateway: gateway, pool: pool, order: order, using: &generator) else { return nil }
        return lease
    }

    @Test func orderComesFromTheSystemParameter() throws {
        #expect(CallerPoolAllocator.Order(parameters: ParameterSet()) == .random)
        var parameters = ParameterSet()
        try parameters.set(.forwardSignalRewriteSequence, to: "1")
        #expect(CallerPoolAllocator.Order(parameters: parameters) == .roundRobin)
        #expect(throws: ModelError.self) { try parameters.set(.forwardSignalRewriteSequence, to: "2") }
        #expect(SystemParameter.forwardSignalRewriteSequence.definition.defaultValue == "0")
    }

    @Test func roundRobinGoesThroughThePoolInOrderUntilEveryNumberIsAtItsMultiplexes() {
        var allocator = CallerPoolAllocator()
        var numbers: [String] = []
        while let lease = take(&allocator, pool, order: .roundRobin) { numbers.append(lease.number) }
        #expect(numbers == ["8801", "8802", "8803", "8801", "8802", "8803"])
        #expect(allocator.lease(gateway: "bd", pool: pool, order: .roundRobin) == .exhausted)
        #expect(!allocator.hasRoom(gateway: "bd", pool: pool))
    }

    @Test func roundRobinSkipsFullNumbersAndResumesAfterTheLastOneHandedOut() {
        let single = CallerNumberPool(numbers: ["1", "2", "3"], multiplexes: 1)
        var allocator = CallerPoolAllocator()
        let first = take(&allocator, single, order: .roundRobin)
        let second = take(&allocator, single, order: .roundRobin)
        #expect(first?.number == "1" && second?.number == "2")
        if let first { allocator.release(first) }
        #expect(take(&allocator, single, order: .roundRobin)?.number == "3")
        #expect(take(&allocator, single, order: .roundRobin)?.number == "1", "the next after 3 wraps to 1, free again")
        #expect(take(&allocator, single, order: .roundRobin) == nil)
    }

    @Test func releaseFreesTheNumberAndTwiceIsHarmless() {
        var allocator = CallerPoolAllocator()
        var leases: [CallerPoolAllocator.Lease] = []
        while let lease = take(&allocator, pool, order: .random) { leases.append(lease) }
        #expect(leases.count == 6)
        let freed = leases[2]
        allocator.release(freed)
        allocator.release(freed)
        #expect(allocator.calls(gateway: "bd", number: freed.number) == 1, "a second release of one lease changes nothing")
        #expect(take(&allocator, pool, order: .random)?.number == freed.number, "the only number with room")
        #expect(take(&allocator, pool, order: .random) == nil)
        for lease in leases { allocator.release(lease) }
        #expect(pool.numbers.map { allocator.calls(gateway: "bd", number: $0) } == pool.numbers.map { $0 == freed.number ? 1 : 0 },
                "only the lease taken after the release is left")
    }

    @Test func randomNeverExceedsMultiplexesAndSpreadsEvenly() {
        let wide = CallerNumberPool(numbers: (1...10).map { "88017\($0)" }, multiplexes: 3)
        var allocator = CallerPoolAllocator()
        var generator = SeededGenerator(seed: 42)
        var handedOut: [String: Int] = [:]
        var live: [CallerPoolAllocator.Lease] = []
        for round in 0..<30_000 {
            switch allocator.lease(gateway: "bd", pool: wide, order: .random, using: &generator) {
            case let .leased(lease):
                handedOut[lease.number, default: 0] += 1
                live.append(lease)
                #expect(allocator.calls(gateway: "bd", number: lease.number) <= 3)
            case .exhausted:
                #expect(live.count == 30, "exhausted only when all 10 numbers carry 3 calls (round \(round))")
            }
            // Calls end in an order unrelated to their start.
            if live.count > 20 || round % 3 == 0, !live.isEmpty {
                allocator.release(live.remove(at: Int(generator.next() % UInt64(live.count))))
            }
        }
        #expect(handedOut.count == 10)
        let expected = Double(handedOut.values.reduce(0, +)) / 10
        for (number, count) in handedOut {
            #expect(abs(Double(count) - expected) < expected * 0.1, "\(number) handed out \(count) times, expected about \(Int(expected))")
        }
    }

    @Test func randomExhaustsAfterNumbersTimesMultiplexes() {
        var allocator = CallerPoolAllocator()
        for seed in 1...6 { #expect(take(&allocator, pool, order: .random, seed: UInt64(seed)) != nil) }
        #expect(take(&allocator, pool, order: .random) == nil)
        #expect(pool.numbers.allSatisfy { allocator.calls(gateway: "bd", number: $0) == 2 })
    }

    @Test func zeroMultiplexesIsUnlimited() {
        let unlimited = CallerNumberPool(numbers: ["1"], multiplexes: 0)
        var allocator = CallerPoolAllocator()
        for _ in 0..<100 { #expect(take(&allocator, unlimited, order: .roundRobin) != nil) }
        #expect(allocator.calls(gateway: "bd", number: "1") == 100)
        #expect(allocator.hasRoom(gateway: "bd", pool: unlimited))
    }

    @Test func gatewaysCountSeparately() {
        let single = CallerNumberPool(numbers: ["1"], multiplexes: 1)
        var allocator = CallerPoolAllocator()
        #expect(take(&allocator, single, order: .roundRobin, gateway: "a") != nil)
        #expect(take(&allocator, single, order: .roundRobin, gateway: "b") != nil, "the same number in another gateway's pool")
        #expect(take(&allocator, single, order: .roundRobin, gateway: "a") == nil)
    }

    @Test func aReloadedPoolKeepsCountsAndReleasesRemovedNumbers() {
        var allocator = CallerPoolAllocator()
        let before = CallerNumberPool(numbers: ["1", "2"], multiplexes: 1)
        let one = take(&allocator, before, order: .roundRobin)
        #expect(one?.number == "1")
        let after = CallerNumberPool(numbers: ["2", "1"], multiplexes: 1)
        #expect(take(&allocator, after, order: .roundRobin)?.number == "2", "1 is still in use after the reload")
        #expect(take(&allocator, after, order: .roundRobin) == nil)
        let shrunk = CallerNumberPool(numbers: ["3"], multiplexes: 1)
        #expect(take(&allocator, shrunk, order: .random)?.number == "3")
        if let one { allocator.release(one) }
        #expect(allocator.calls(gateway: "bd", number: "1") == 0)
    }
}
