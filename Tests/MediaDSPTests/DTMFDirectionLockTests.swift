import Testing
@testable import MediaDSP
import VOSModel

/// Offers `methods` in order and returns which were admitted.
private func offer(_ methods: [DTMFMethod], to lock: inout DTMFDirectionLock,
                   filter: DTMFReceiveFilter = .all) -> [Bool] {
    methods.map { lock.admit($0, filter: filter) }
}

@Suite struct DTMFDirectionLockTests {
    @Test func firstMethodLocksTheDirection() {
        var lock = DTMFDirectionLock()
        #expect(lock.lockedMethod == nil)
        #expect(offer([.rfc2833], to: &lock) == [true])
        #expect(lock.lockedMethod == .rfc2833)
        #expect(offer([.inband, .info, .rfc2833], to: &lock) == [false, false, true])
        #expect(lock.droppedDigits == 2)
    }

    @Test(arguments: DTMFMethod.allCases)
    func anyMethodCanWin(method: DTMFMethod) {
        var lock = DTMFDirectionLock()
        let others = DTMFMethod.allCases.filter { $0 != method }
        #expect(offer([method] + others + [method], to: &lock) == [true, false, false, true])
        #expect(lock.lockedMethod == method)
    }

    @Test func filteredMethodsNeitherPassNorLock() {
        var lock = DTMFDirectionLock()
        #expect(offer([.inband], to: &lock, filter: .info) == [false])
        #expect(lock.lockedMethod == nil)
        #expect(offer([.info], to: &lock, filter: .info) == [true])
        #expect(lock.lockedMethod == .info)
        #expect(offer([.inband], to: &lock) == [false])
        #expect(lock.droppedDigits == 2)
    }

    @Test func combinedFiltersAcceptEachMember() {
        let filter: DTMFReceiveFilter = [.rfc2833, .info]
        #expect(filter.accepts(.rfc2833))
        #expect(filter.accepts(.info))
        #expect(!filter.accepts(.inband))
        for method in DTMFMethod.allCases {
            #expect(DTMFReceiveFilter.all.accepts(method))
            #expect(DTMFReceiveFilter(method).accepts(method))
        }
    }

    @Test func resetReleasesTheLock() {
        var lock = DTMFDirectionLock()
        #expect(offer([.info], to: &lock) == [true])
        lock.reset()
        #expect(offer([.inband, .info], to: &lock) == [true, false])
        #expect(lock.lockedMethod == .inband)
    }

    @Test func directionsAreIndependent() {
        var forward = DTMFDirectionLock()
        var backward = DTMFDirectionLock()
        #expect(offer([.rfc2833], to: &forward) == [true])
        #expect(offer([.info], to: &backward) == [true])
        #expect(offer([.info], to: &forward) == [false])
        #expect(offer([.rfc2833], to: &backward) == [false])
    }

    @Test func parsesFilterNames() {
        #expect(DTMFReceiveFilter(name: "ALL") == .all)
        #expect(DTMFReceiveFilter(name: "rfc2833") == .rfc2833)
        #expect(DTMFReceiveFilter(name: "RFC4733") == .rfc2833)
        #expect(DTMFReceiveFilter(name: "Info") == .info)
        #expect(DTMFReceiveFilter(name: "inband") == .inband)
        #expect(DTMFReceiveFilter(name: "carrier-pigeon") == nil)
        #expect(DTMFMethod(rawValue: "rfc2833") == .rfc2833)
    }
}
