import Testing
import VOSModel
@testable import Sockets
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SocketAddressTests {
    @Test func parsesAndPrintsBothFamilies() throws {
        let v4 = try SocketAddress(parsing: "203.0.113.5:5060")
        #expect(v4.address == .v4(0xCB00_7105) && v4.port == 5060 && v4.family == .v4)
        #expect(v4.description == "203.0.113.5:5060" && v4.host == "203.0.113.5" && v4.ip == "203.0.113.5")
        let v6 = try SocketAddress(parsing: "[2001:DB8::1]:5080")
        #expect(v6.family == .v6 && v6.port == 5080)
        #expect(v6.description == "[2001:db8::1]:5080" && v6.host == "[2001:db8::1]" && v6.ip == "2001:db8::1")
        #expect(try SocketAddress(parsing: "::1:5060") == SocketAddress(.v6(high: 0, low: 1), port: 5060))
        #expect(try SocketAddress(ip: "[::1]", port: 0) == SocketAddress(.v6(high: 0, low: 1), port: 0))
    }

    @Test(arguments: ["203.0.113.5", "203.0.113.5:70000", "host.example:5060", "[2001:db8::1]5060", "300.1.1.1:5060", " 203.0.113.5:5060"])
    func refusesWhatIsNotIPAndPort(_ text: String) {
        #expect(throws: InvalidSocketAddress.self) { try SocketAddress(parsing: text) }
    }

    @Test func refusesPortsOutsideSixteenBits() {
        #expect(throws: InvalidSocketAddress(text: "192.0.2.1:65536", reason: "port out of 0-65535")) {
            try SocketAddress(ip: "192.0.2.1", port: 65536)
        }
    }

    @Test(arguments: ["192.0.2.1:4000", "[2001:db8::7]:5004", "0.0.0.0:0", "[::]:65535"])
    func kernelFormRoundTrips(_ text: String) throws {
        let address = try SocketAddress(parsing: text)
        var storage = sockaddr_storage()
        let length = address.write(into: &storage)
        #expect(Int(length) == (address.family == .v4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size))
        #expect(Int32(storage.ss_family) == address.domain)
        #expect(SocketAddress(storage: &storage) == address)
    }

    @Test func readsTheAddressTheKernelBound() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        let wanted = try SocketAddress(ip: "127.0.0.1", port: 0)
        #expect(wanted.withSockaddr { bind(descriptor, $0, $1) } == 0)
        let bound = try #require(SocketAddress(boundTo: descriptor))
        #expect(bound.address == wanted.address && bound.port != 0)
    }

    @Test func otherFamiliesAreNotSocketAddresses() {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_UNIX)
        #expect(SocketAddress(storage: &storage) == nil)
    }
}
