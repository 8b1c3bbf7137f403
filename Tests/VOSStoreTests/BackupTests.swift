import Foundation
import Testing
import VOSModel
@testable import VOSStore

@Suite struct BackupTests {
    func populatedStore(_ directory: TemporaryDirectory) throws -> Store {
        let store = try Store.initialize(directory: directory.child("source")).store
        try store.write { transaction in
            try transaction.replaceRates(table: "retail", with: (0..<50).map { RateEntry(prefix: "44\($0)", pricePerMinute: Money(units: Int64($0))) })
            var account = Account(name: "acme", kind: .prepaid)
            account.rateTable = "retail"
            account.balance = Money(whole: 100)
            try transaction.addAccount(account)
            var gateway = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "203.0.113.5")])
            gateway.account = "acme"
            try transaction.addMappingGateway(gateway)
            try transaction.addRoutingGateway(RoutingGateway(name: "ven", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"]))
            try transaction.setParameter(.maxCPS, to: "500")
        }
        return store
    }

    @Test func roundTripKeepsEveryRow() throws {
        let directory = try TemporaryDirectory()
        let store = try populatedStore(directory)
        let file = directory.child("node.vosbak")
        let manifest = try Backup.create(from: store, to: file)
        #expect(manifest.tables["rates"] == 50)
        #expect(manifest.tables["accounts"] == 1)
        let report = try Backup.restore(from: file, into: directory.child("restored"))
        #expect(report.after == report.inBackup)
        #expect(report.before.values.allSatisfy { $0 == 0 })
        let restored = try Store(directory: directory.child("restored"))
        #expect(try restored.read { try $0.account(named: "acme") }?.balance == Money(whole: 100))
        #expect(try restored.read { try $0.parameters() }.int(.maxCPS) == 500)
        #expect(try restored.read { try $0.rateLookup(table: "retail", number: "4449") }?.prefix == "4449")
    }

    @Test func aBackupIsNeverRenamedOverADevice() throws {
        let directory = try TemporaryDirectory()
        let store = try populatedStore(directory)
        #expect(throws: StoreError.self) { try Backup.create(from: store, to: "/dev/null") }
        let type = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        #expect(type == .typeCharacterSpecial, "/dev/null is still the device")
    }

    @Test func corruptTruncatedAndForeignFilesAreRefused() throws {
        let directory = try TemporaryDirectory()
        let store = try populatedStore(directory)
        let file = directory.child("node.vosbak")
        try Backup.create(from: store, to: file)
        let original = try Data(contentsOf: URL(fileURLWithPath: file))

        var corrupt = original
        corrupt[corrupt.count - 100] ^= 0xff
        let corruptFile = directory.child("corrupt.vosbak")
        try corrupt.write(to: URL(fileURLWithPath: corruptFile))
        #expect { try Backup.restore(from: corruptFile, into: directory.child("r1")) } throws: { "\($0)".contains("checksum") }

        let truncatedFile = directory.child("truncated.vosbak")
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: truncatedFile))
        #expect { try Backup.restore(from: truncatedFile, into: directory.child("r2")) } throws: { "\($0)".contains("truncated") }

        let foreignFile = directory.child("foreign.vosbak")
        try Data("hello world\n".utf8).write(to: URL(fileURLWithPath: foreignFile))
        #expect { try Backup.restore(from: foreignFile, into: directory.child("r3")) } throws: { "\($0)".contains("not a vos backup") }

        let text = String(decoding: original, as: UTF8.self)
        let otherSchema = text.replacingOccurrences(of: "\"schemaVersion\":1", with: "\"schemaVersion\":7")
        let otherSchemaFile = directory.child("schema7.vosbak")
        try Data(otherSchema.utf8).write(to: URL(fileURLWithPath: otherSchemaFile))
        #expect { try Backup.restore(from: otherSchemaFile, into: directory.child("r4")) } throws: { "\($0)".contains("schema version 7") }

        for name in ["r1", "r2", "r3", "r4"] {
            #expect(!FileManager.default.fileExists(atPath: directory.child(name) + "/data.mdb"), "nothing restored into \(name)")
        }
    }

    /// A backup made before a table existed (here: registrations) restores; the table comes back empty.
    @Test func backupFromBeforeATableExistedRestores() throws {
        let directory = try TemporaryDirectory()
        let store = try populatedStore(directory)
        let file = directory.child("node.vosbak")
        try Backup.create(from: store, to: file)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let headerEnd = try #require(bytes.indices.filter { bytes[$0] == 0x0A }.dropFirst().first)
        var header = String(decoding: bytes[..<headerEnd], as: UTF8.self)
        let before = header
        for entry in [#""registrations":0,"#, #","registrations":0"#] where header.contains(entry) {
            header = header.replacingOccurrences(of: entry, with: "")
            break
        }
        #expect(header != before, "the manifest listed registrations: \(before)")
        bytes.replaceSubrange(..<headerEnd, with: Array(header.utf8))
        let older = directory.child("older.vosbak")
        try Data(bytes).write(to: URL(fileURLWithPath: older))
        let report = try Backup.restore(from: older, into: directory.child("restored"))
        #expect(report.after["registrations"] == 0)
        #expect(report.after["accounts"] == 1)
    }

    @Test func restoreRefusesANonEmptyStore() throws {
        let directory = try TemporaryDirectory()
        let store = try populatedStore(directory)
        let file = directory.child("node.vosbak")
        try Backup.create(from: store, to: file)
        #expect { try Backup.restore(from: file, into: directory.child("source")) } throws: { "\($0)".contains("not empty") }
        #expect(try store.read { try $0.accounts().count } == 1)
    }
}
