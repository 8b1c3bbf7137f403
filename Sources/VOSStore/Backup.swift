import CLMDB
import Crypto
import Foundation
import VOSModel

/// What a backup file says about itself, written as one JSON line after the magic line.
public struct BackupManifest: Codable, Sendable, Equatable {
    public var format: Int
    public var schemaVersion: Int
    public var createdAt: String
    public var tables: [String: Int]
    public var dataBytes: Int
    public var sha256: String
}

/// Per-table counts around a restore, so an operator can compare old and new nodes.
public struct RestoreReport: Sendable {
    public var before: [String: Int]
    public var inBackup: [String: Int]
    public var after: [String: Int]
}

/// Backup file layout: `VOSBACKUP 1\n`, the manifest as one JSON line, then a compacted LMDB
/// copy. The checksum covers the LMDB bytes; the manifest is checked field by field.
public enum Backup {
    static let magic = "VOSBACKUP 1"
    static let formatVersion = 1
    static let maximumManifestBytes = 64 * 1024
    static let chunkSize = 1 << 20

    /// Writes a consistent copy of `store` (LMDB's own snapshot copy, compacted) to `path`,
    /// atomically: the file appears only when complete.
    @discardableResult
    public static func create(from store: Store, to path: String, now: Date = Date()) throws -> BackupManifest {
        // The finished file is renamed over `path`: as root, a device such as /dev/null would be replaced.
        if let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType,
           type != .typeRegular {
            throw StoreError.backup("\(path) exists and is not a regular file; a backup is written to a new or regular file")
        }
        let fileManager = FileManager.default
        let workDirectory = NSTemporaryDirectory() + "vos-backup-\(UUID().uuidString)"
        try createDirectory(workDirectory)
        defer { try? fileManager.removeItem(atPath: workDirectory) }

        try Store.check(mdb_env_copy2(store.environment, workDirectory, UInt32(MDB_CP_COMPACT)), "copy for backup")
        let copyPath = Store.dataFilePath(in: workDirectory)
        // Count from the copy itself, so the manifest describes exactly the bytes it travels with.
        let tables = try Store(directory: workDirectory).read { try $0.countsByName() }
        let (size, digest) = try hashFile(copyPath)

        let manifest = BackupManifest(format: formatVersion, schemaVersion: Store.schemaVersion,
                                      createdAt: ISO8601DateFormatter().string(from: now),
                                      tables: tables, dataBytes: size, sha256: digest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = Data((magic + "\n").utf8) + (try encoder.encode(manifest)) + Data("\n".utf8)

        let temporaryPath = path + ".partial"
        guard fileManager.createFile(atPath: temporaryPath, contents: header) else {
            throw StoreError.io(path: path, reason: "cannot create the backup file")
        }
        do {
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: temporaryPath))
            defer { try? output.close() }
            try output.seekToEnd()
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: copyPath))
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: chunkSize), !chunk.isEmpty { try output.write(contentsOf: chunk) }
            try output.synchronize()
        } catch {
            try? fileManager.removeItem(atPath: temporaryPath)
            throw StoreError.io(path: path, reason: "writing the backup failed: \(error.localizedDescription)")
        }
        if fileManager.fileExists(atPath: path) { try? fileManager.removeItem(atPath: path) }
        do { try fileManager.moveItem(atPath: temporaryPath, toPath: path) } catch {
            throw StoreError.io(path: path, reason: "cannot move the finished backup into place: \(error.localizedDescription)")
        }
        return manifest
    }

    /// Reads and checks only the manifest (magic, format, schema).
    public static func readManifest(at path: String) throws -> (manifest: BackupManifest, dataOffset: Int) {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw StoreError.io(path: path, reason: "cannot open the backup file")
        }
        defer { try? input.close() }
        let head = (try? input.read(upToCount: maximumManifestBytes + magic.utf8.count + 2)) ?? Data()
        let bytes = [UInt8](head)
        guard let firstNewline = bytes.firstIndex(of: 10),
              String(decoding: bytes[..<firstNewline], as: UTF8.self) == magic else {
            throw StoreError.backup("\(path) is not a vos backup (missing the '\(magic)' header)")
        }
        guard let secondNewline = bytes[(firstNewline + 1)...].firstIndex(of: 10) else {
            throw StoreError.backup("\(path) is truncated or corrupt: its manifest line is incomplete")
        }
        let manifest: BackupManifest
        do {
            manifest = try JSONDecoder().decode(BackupManifest.self, from: Data(bytes[(firstNewline + 1)..<secondNewline]))
        } catch {
            throw StoreError.backup("\(path) is corrupt: its manifest cannot be read (\(error))")
        }
        guard manifest.format == formatVersion else {
            throw StoreError.backup("\(path) uses backup format \(manifest.format); this vos reads format \(formatVersion)")
        }
        guard manifest.schemaVersion == Store.schemaVersion else {
            throw StoreError.backup("\(path) holds schema version \(manifest.schemaVersion); this vos understands \(Store.schemaVersion): restore it with a matching vos version")
        }
        return (manifest, secondNewline + 1)
    }

    /// Restores `path` into `directory`, which must hold no data yet. Verifies size, checksum and
    /// counts before anything becomes visible; on any failure the directory is as it was.
    public static func restore(from path: String, into directory: String) throws -> RestoreReport {
        let (manifest, offset) = try readManifest(at: path)
        let fileManager = FileManager.default
        var before: [String: Int] = [:]
        for table in Table.dataTables { before[table.rawValue] = 0 }
        if fileManager.fileExists(atPath: Store.dataFilePath(in: directory)) {
            before = try Store(directory: directory).read { try $0.countsByName() }
            let rows = before.values.reduce(0, +)
            guard rows == 0 else {
                throw StoreError.conflict("data directory \(directory) is not empty (\(rows) rows); restore needs an empty one: stop the daemons and point --data-dir at a new directory")
            }
        }
        try createDirectory(directory)
        let staging = (directory as NSString).appendingPathComponent(".restore-\(UUID().uuidString)")
        try createDirectory(staging)
        defer { try? fileManager.removeItem(atPath: staging) }

        let stagedData = Store.dataFilePath(in: staging)
        try extract(path, offset: offset, to: stagedData)
        let (size, digest) = try hashFile(stagedData)
        guard size == manifest.dataBytes else {
            throw StoreError.backup("\(path) is truncated: it holds \(size) data bytes, its manifest says \(manifest.dataBytes)")
        }
        guard digest == manifest.sha256 else {
            throw StoreError.backup("\(path) is corrupt: checksum \(digest) does not match the manifest's \(manifest.sha256)")
        }
        let after = try Store(directory: staging).read { try $0.countsByName() }
        // A backup from before a table existed: opening the copy creates it empty, and it is not
        // in the manifest. Every table the manifest lists must match exactly.
        let comparable = after.filter { name, count in manifest.tables[name] != nil || count != 0 }
        guard comparable == manifest.tables else {
            throw StoreError.backup("\(path) is inconsistent: restored counts \(after) differ from the manifest's \(manifest.tables)")
        }
        let target = Store.dataFilePath(in: directory)
        let lock = (directory as NSString).appendingPathComponent("lock.mdb")
        try? fileManager.removeItem(atPath: lock)
        if fileManager.fileExists(atPath: target) { try? fileManager.removeItem(atPath: target) }
        do { try fileManager.moveItem(atPath: stagedData, toPath: target) } catch {
            throw StoreError.io(path: target, reason: "cannot move the restored store into place: \(error.localizedDescription)")
        }
        return RestoreReport(before: before, inBackup: manifest.tables, after: after)
    }

    private static func createDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw StoreError.io(path: path, reason: "cannot create directory: \(error.localizedDescription)")
        }
    }

    private static func extract(_ path: String, offset: Int, to destination: String) throws {
        guard FileManager.default.createFile(atPath: destination, contents: nil),
              let output = FileHandle(forWritingAtPath: destination),
              let input = FileHandle(forReadingAtPath: path) else {
            throw StoreError.io(path: destination, reason: "cannot stage the restore")
        }
        defer { try? output.close(); try? input.close() }
        do {
            try input.seek(toOffset: UInt64(offset))
            while let chunk = try input.read(upToCount: chunkSize), !chunk.isEmpty { try output.write(contentsOf: chunk) }
        } catch {
            throw StoreError.io(path: path, reason: "reading the backup failed: \(error.localizedDescription)")
        }
    }

    private static func hashFile(_ path: String) throws -> (size: Int, sha256: String) {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw StoreError.io(path: path, reason: "cannot read for checksum")
        }
        defer { try? input.close() }
        var hasher = SHA256()
        var size = 0
        do {
            while let chunk = try input.read(upToCount: chunkSize), !chunk.isEmpty {
                hasher.update(data: chunk)
                size += chunk.count
            }
        } catch {
            throw StoreError.io(path: path, reason: "reading for checksum failed: \(error.localizedDescription)")
        }
        let digest = hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return (size, digest)
    }
}

extension Transaction {
    func countsByName() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for (table, count) in try counts() { result[table.rawValue] = count }
        return result
    }
}
