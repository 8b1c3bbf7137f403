import Foundation
import Testing
import VOSModel
@testable import VOSStore

/// Geofence ranges in LMDB: the binary record, address order, all-or-nothing additions, removal,
/// and the generation bump that makes the controller reload.
@Suite struct GeofenceRangeStoreTests {
    private func range(_ cidr: String, _ mode: GeofenceRange.Mode, _ label: String? = nil) throws -> GeofenceRange {
        try GeofenceRange(prefix: IPPrefix(parsing: cidr), mode: mode, label: label)
    }

    @Test func rangesComeBackInAddressOrderWithEveryField() throws {
        let directory = try TemporaryDirectory()
        let store = try Store.initialize(directory: directory.child("data")).store
        let before = try store.generation()
        let ranges = [try range("2001:db8::/32", .allow), try range("203.0.113.0/24", .forbidden, "Ünïcode label"),
                      try range("10.0.0.0/8", .ignore, "own")]
        try store.write { try $0.addGeofenceRanges(ranges) }
        #expect(try store.generation() > before, "a change the controller must reload")
        #expect(try store.read { try $0.geofenceRanges() } == ranges.sorted())
    }

    @Test func anOverlapChangesNothing() throws {
        let directory = try TemporaryDirectory()
        let store = try Store.initialize(directory: directory.child("data")).store
        try store.write { try $0.addGeofenceRanges([try range("192.0.2.0/24", .allow)]) }
        let generation = try store.generation()
        #expect {
            try store.write { try $0.addGeofenceRanges([try range("198.51.100.0/24", .forbidden), try range("192.0.2.128/25", .forbidden)]) }
        } throws: { error in
            "\(error)" == "geofence range 192.0.2.128-192.0.2.255 (forbidden) overlaps the existing range 192.0.2.0-192.0.2.255 (allow)"
        }
        #expect(try store.read { try $0.geofenceRanges().map(\.span) } == ["192.0.2.0-192.0.2.255"])
        #expect(try store.generation() == generation)
        // Replacing drops the stored range first, so the same addresses may come back with another mode.
        #expect(try store.write { try $0.addGeofenceRanges([try range("192.0.2.128/25", .forbidden)], replacing: true) } == 1)
        #expect(try store.read { try $0.geofenceRanges().map(\.description) } == ["192.0.2.128-192.0.2.255 (forbidden)"])
    }

    @Test func removalByStartByLabelAndAll() throws {
        let directory = try TemporaryDirectory()
        let store = try Store.initialize(directory: directory.child("data")).store
        try store.write {
            try $0.addGeofenceRanges([try range("1.0.1.0/24", .forbidden, "CN"), try range("1.0.2.0/23", .forbidden, "cn"),
                                      try range("1.0.4.0/22", .forbidden, "AU"), try range("2001:200::/32", .forbidden, "JP")])
        }
        #expect(try store.write { try $0.removeGeofenceRange(start: IPAddress(parsing: "2001:200::")) }.label == "JP")
        #expect { try store.write { try $0.removeGeofenceRange(start: IPAddress(parsing: "1.0.1.1")) } } throws: { error in
            "\(error)" == "geofence range starting at '1.0.1.1' does not exist"
        }
        #expect(try store.write { try $0.removeGeofenceRanges(label: "CN") } == 2)
        #expect(try store.write { try $0.removeGeofenceRanges() } == 1)
        #expect(try store.read { try $0.geofenceRanges() }.isEmpty)
    }

    @Test func aCorruptRecordIsNamed() throws {
        let directory = try TemporaryDirectory()
        let store = try Store.initialize(directory: directory.child("data")).store
        try store.write { try $0.put(.geofenceRanges, [4, 192, 0, 2, 0], [1, 9, 192, 0, 2, 255]) }
        #expect { try store.read { try $0.geofenceRanges() } } throws: { error in
            "\(error)".contains("geofence_ranges") && "\(error)".contains("unknown mode 9")
        }
    }
}
