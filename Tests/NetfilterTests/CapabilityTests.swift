import Foundation
import Glibc
import Testing
@testable import Netfilter

@Suite("Capability errors", .serialized, .timeLimit(.minutes(3)))
struct CapabilityTests {
    @Test func permissionErrorsMeanStayInUserspace() {
        let error = NetlinkSocket.failure("send nf_tables batch", EPERM)
        #expect(error.isUnavailable)
        #expect(error.description.contains("staying in userspace"))
        #expect(error.description.contains("Operation not permitted"))
        #expect(!NetlinkSocket.failure("x", ENOENT).isUnavailable)
    }

    /// A thread without CAP_NET_ADMIN (capabilities are per thread) gets `.unavailable`.
    @Test func withoutNetAdminApplyIsUnavailable() throws {
        let ns = try TestNamespace("cap")
        defer { ns.remove() }
        let outcome = try ns.inside { () -> String in
            try Capabilities.dropNetAdminFromThisThread()
            do {
                try NftablesClient().apply(FirewallCompiler.compile(.defaults))
                return "applied"
            } catch let error as NetfilterError {
                return error.isUnavailable ? "unavailable: \(error)" : "other: \(error)"
            }
        }
        #expect(outcome.hasPrefix("unavailable: "), "\(outcome)")
        #expect(outcome.contains("errno 1"))
    }
}

/// capget/capset through dlsym: Glibc does not export them to Swift.
enum Capabilities {
    struct Header { var version: UInt32 = 0x2008_0522; var pid: Int32 = 0 }
    struct Data { var effective: UInt32 = 0; var permitted: UInt32 = 0; var inheritable: UInt32 = 0 }
    typealias Call = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32

    static func dropNetAdminFromThisThread() throws {
        guard let getSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "capget"),
              let setSymbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "capset") else {
            throw TestNamespace.CommandFailed(command: ["dlsym capget/capset"], status: -1, output: "")
        }
        let capget = unsafeBitCast(getSymbol, to: Call.self)
        let capset = unsafeBitCast(setSymbol, to: Call.self)
        var header = Header()
        var data = [Data(), Data()]
        guard capget(&header, &data) == 0 else { throw TestNamespace.CommandFailed(command: ["capget"], status: errno, output: "") }
        let netAdmin: UInt32 = 1 << 12
        data[0].effective &= ~netAdmin
        data[0].permitted &= ~netAdmin
        guard capset(&header, &data) == 0 else { throw TestNamespace.CommandFailed(command: ["capset"], status: errno, output: "") }
    }
}
