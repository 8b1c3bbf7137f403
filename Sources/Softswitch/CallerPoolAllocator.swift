import VOSModel

/// Hands out the numbers of routing gateways' caller number pools and takes them back, counting
/// each number's concurrent calls against the pool's Multiplexes. One per controller, on its
/// loop; pure state, no I/O.
///
/// The pools come with each request, so a configuration reload needs nothing here: a number
/// removed from a pool is no longer handed out, and its leases still release normally.
public struct CallerPoolAllocator: Sendable {
    /// `FORWARD_SIGNAL_REWRITE_SEQUENCE`: 0 random, 1 round robin ("poll").
    public enum Order: Int, Sendable, CaseIterable {
        case random = 0
        case roundRobin = 1

        public init(parameters: ParameterSet) {
            self = Order(rawValue: parameters.int(.forwardSignalRewriteSequence)) ?? .random
        }
    }

    /// One pool number in use by one call attempt. Releasing it twice is harmless.
    public struct Lease: Sendable, Hashable {
        public let id: UInt64
        public let gateway: String
        public let number: String
    }

    public enum Allocation: Sendable, Equatable {
        case leased(Lease)
        /// Every number of the pool is at its Multiplexes (the call gets 503, CallerPoolExhausted).
        case exhausted
    }

    private var inUse: [String: [String: Int]] = [:]
    private var active: [UInt64: Lease] = [:]
    private var nextCursor: [String: Int] = [:]
    private var nextID: UInt64 = 1

    public init() {}

    /// A number of `gateway`'s pool for one call, or `.exhausted`.
    public mutating func lease<Generator: RandomNumberGenerator>(
        gateway: String, pool: CallerNumberPool, order: Order, using generator: inout Generator
    ) -> Allocation {
        let counts = inUse[gateway, default: [:]]
        let hasRoom = { (number: String) in pool.multiplexes == 0 || counts[number, default: 0] < pool.multiplexes }
        let chosen: String?
        switch order {
        case .random:
            chosen = pool.numbers.filter(hasRoom).randomElement(using: &generator)
        case .roundRobin:
            let start = nextCursor[gateway, default: 0] % max(1, pool.numbers.count)
            let index = pool.numbers.indices.lazy.map { (start + $0) % pool.numbers.count }.first { hasRoom(pool.numbers[$0]) }
            if let index { nextCursor[gateway] = (index + 1) % pool.numbers.count }
            chosen = index.map { pool.numbers[$0] }
        }
        guard let number = chosen else { return .exhausted }
        let lease = Lease(id: nextID, gateway: gateway, number: number)
        nextID += 1
        inUse[gateway, default: [:]][number, default: 0] += 1
        active[lease.id] = lease
        return .leased(lease)
    }

    public mutating func lease(gateway: String, pool: CallerNumberPool, order: Order) -> Allocation {
        var generator = SystemRandomNumberGenerator()
        return lease(gateway: gateway, pool: pool, order: order, using: &generator)
    }

    /// Gives the number back when the attempt fails or the call ends.
    public mutating func release(_ lease: Lease) {
        guard active.removeValue(forKey: lease.id) != nil else { return }
        let remaining = inUse[lease.gateway, default: [:]][lease.number, default: 0] - 1
        inUse[lease.gateway]?[lease.number] = remaining > 0 ? remaining : nil
        if inUse[lease.gateway]?.isEmpty == true { inUse[lease.gateway] = nil }
    }

    /// Calls currently carrying `number` for `gateway`.
    public func calls(gateway: String, number: String) -> Int {
        inUse[gateway]?[number] ?? 0
    }

    /// Whether a lease from this pool would succeed now (for route status: an exhausted pool
    /// makes its gateway busy).
    public func hasRoom(gateway: String, pool: CallerNumberPool) -> Bool {
        pool.multiplexes == 0 || pool.numbers.contains { calls(gateway: gateway, number: $0) < pool.multiplexes }
    }
}
