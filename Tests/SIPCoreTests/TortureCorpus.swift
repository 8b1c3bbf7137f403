import Foundation
@testable import SIPCore

/// Loads the RFC 4475 messages bundled under Torture/valid and Torture/invalid.
enum TortureCorpus {
    static func directory(_ kind: String) -> URL {
        guard let root = Bundle.module.url(forResource: "Torture", withExtension: nil) else {
            fatalError("Torture resources missing from the test bundle")
        }
        return root.appendingPathComponent(kind)
    }

    static func names(_ kind: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory(kind).path)) ?? []
        return files.filter { $0.hasSuffix(".sip") }.map { String($0.dropLast(4)) }.sorted()
    }

    static func bytes(_ kind: String, _ name: String) -> [UInt8] {
        let url = directory(kind).appendingPathComponent(name + ".sip")
        return [UInt8]((try? Data(contentsOf: url)) ?? Data())
    }

    static var all: [[UInt8]] {
        names("valid").map { bytes("valid", $0) } + names("invalid").map { bytes("invalid", $0) }
    }
}

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }
