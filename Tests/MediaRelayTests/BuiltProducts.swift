import Foundation

/// Finds vos-mediad and vosctl, built by the same `swift build`/`swift test` as this test bundle.
/// SwiftPM puts executables beside the test binary (`<scratch>/debug/`), so the directory of
/// /proc/self/exe is tried first; `VOS_BIN_DIR` overrides, and `<package>/.build/debug`
/// (derived from #filePath) is the last resort.
enum BuiltProducts {
    static func path(of product: String, filePath: String = #filePath) throws -> String {
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["VOS_BIN_DIR"] { candidates.append(override) }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            // Inside an .xctest bundle directory on some layouts: step out of it.
            while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
            candidates.append(directory.path)
        }
        let packageRoot = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug").path)
        for directory in candidates {
            let path = directory + "/" + product
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw MissingProduct(product: product, searched: candidates)
    }

    struct MissingProduct: Error, CustomStringConvertible {
        let product: String
        let searched: [String]
        var description: String { "\(product) not found in \(searched.joined(separator: ", ")); build it (swift build) or set VOS_BIN_DIR" }
    }
}
