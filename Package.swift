// swift-tools-version:6.0
// vos: carrier-grade VoIP softswitch appliance. See docs/ARCHITECTURE.md for how the modules fit.
import PackageDescription

let package = Package(
    name: "vos",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vosctl", targets: ["vosctl"]),
        .executable(name: "vos-controller", targets: ["vos-controller"]),
        .executable(name: "vos-mediad", targets: ["vos-mediad"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        // MARK: C libraries from Debian (pkg-config + apt providers)
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CBcg729", pkgConfig: "libbcg729", providers: [.apt(["libbcg729-dev"])]),
        .systemLibrary(name: "CSpanDSP", pkgConfig: "spandsp", providers: [.apt(["libspandsp-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .systemLibrary(name: "CNftnl", pkgConfig: "libnftnl", providers: [.apt(["libnftnl-dev"])]),
        .systemLibrary(
            name: "CNetfilterConntrack", pkgConfig: "libnetfilter_conntrack",
            providers: [.apt(["libnetfilter-conntrack-dev"])]),
        // recvmmsg/sendmmsg and friends, which Glibc hides from Swift.
        .target(name: "CVOSSys"),

        // MARK: Socket plumbing shared by every module
        // SocketAddress (IP + port, kernel form) and the Unix-socket helper.
        .target(name: "Sockets", dependencies: ["VOSModel"]),

        // MARK: Pure logic (no I/O)
        .target(name: "VOSModel"),
        // Route source and local-address questions asked of the kernel (no policy).
        .target(name: "HostNetwork", dependencies: ["VOSModel", "Sockets"]),
        .target(name: "SIPCore"),
        // SIPCore + Crypto: digest credentials are checked here (MD5, SHA-256, HMAC nonces), still pure.
        .target(name: "Softswitch", dependencies: ["VOSModel", "SIPCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "SIPStack", dependencies: ["SIPCore", "CVOSSys", "VOSModel", "Sockets"]),
        .target(name: "CallControl", dependencies: [
            "CVOSSys", "SIPCore", "SIPStack", "Softswitch", "VOSModel", "VOSStore", "MediaControl", "Sockets",
            .product(name: "Logging", package: "swift-log"),
            // The metrics API only; the Prometheus backend is bootstrapped by the daemon.
            .product(name: "Metrics", package: "swift-metrics"),
        ]),

        // MARK: Storage, media, kernel
        .target(name: "VOSStore", dependencies: [
            "CLMDB", "VOSModel", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "MediaControl", dependencies: ["CVOSSys", "VOSModel", "Sockets"]),
        .target(name: "MediaRelay", dependencies: ["CVOSSys", "MediaControl", "MediaDSP", "VOSModel", "Sockets"]),
        .target(name: "MediaDSP", dependencies: ["CBcg729", "CSpanDSP", "VOSModel"]),
        .target(name: "Netfilter", dependencies: ["CMnl", "CNftnl", "CNetfilterConntrack", "CVOSSys", "VOSModel", "Sockets"]),
        // Store -> firewall policy and the firewall operations shared by vos-mediad and vosctl.
        .target(name: "Firewall", dependencies: ["Netfilter", "VOSModel", "VOSStore", "MediaControl"]),
        .target(name: "VOSRuntime", dependencies: [
            "VOSStore", "Sockets", .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        // Cluster mode: PostgreSQL as the source of truth, each node's LMDB as cache and journal.
        .target(name: "ClusterStore", dependencies: [
            "VOSModel", "VOSStore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // What the NOC sees from outside: Prometheus metrics over HTTP, webhooks, HEP capture.
        .target(name: "Telemetry", dependencies: [
            "VOSModel", "Sockets", "CVOSSys",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // MARK: Executables (thin: parsing, wiring, lifecycle)
        .executableTarget(name: "vosctl", dependencies: [
            "VOSModel", "HostNetwork", "VOSStore", "VOSRuntime", "MediaControl", "CallControl", "Firewall", "Sockets", "Softswitch",
            "SIPStack", "ClusterStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "vos-controller", dependencies: [
            "CVOSSys", "VOSModel", "HostNetwork", "VOSStore", "VOSRuntime", "SIPCore", "SIPStack", "CallControl", "MediaControl", "Softswitch",
            "Telemetry", "ClusterStore", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "vos-mediad", dependencies: [
            "VOSModel", "HostNetwork", "VOSStore", "VOSRuntime", "MediaControl", "MediaDSP", "MediaRelay", "Netfilter", "Firewall", "Sockets",
            "Telemetry", "ClusterStore", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // MARK: Tests
        .target(name: "VOSTestSupport", path: "Tests/VOSTestSupport"),
        .testTarget(name: "VOSModelTests", dependencies: ["VOSModel", "VOSTestSupport"]),
        .testTarget(name: "SoftswitchTests", dependencies: ["Softswitch", "VOSModel", "VOSTestSupport", "SIPCore"]),
        .testTarget(name: "CallControlTests", dependencies: [
            "CallControl", "SIPStack", "SIPCore", "Softswitch", "VOSModel", "VOSStore", "MediaControl",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "VOSStoreTests", dependencies: ["VOSStore", "VOSModel", "VOSTestSupport"]),
        .testTarget(name: "VOSCtlTests", dependencies: ["VOSStore", "VOSModel", "VOSTestSupport"]),
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore", "VOSTestSupport"], resources: [.copy("Torture")]),
        .testTarget(name: "SIPStackTests", dependencies: ["SIPStack", "SIPCore", "Sockets"]),
        .testTarget(name: "ControllerTests", dependencies: ["VOSStore", "VOSModel", "VOSTestSupport", "MediaDSP"], resources: [.copy("Scenarios")]),
        .testTarget(name: "MediaRelayTests", dependencies: ["MediaRelay", "MediaControl", "MediaDSP", "VOSTestSupport"]),
        .testTarget(name: "NetfilterTests", dependencies: ["Netfilter", "VOSModel", "Sockets", "VOSTestSupport"]),
        .testTarget(name: "MediaDSPTests", dependencies: ["MediaDSP", "VOSModel"]),
        .testTarget(name: "SocketsTests", dependencies: ["Sockets", "VOSModel"]),
        .testTarget(name: "TelemetryTests", dependencies: [
            "Telemetry", "VOSModel", "Sockets", "VOSTestSupport",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .testTarget(name: "ClusterStoreTests", dependencies: [
            "ClusterStore", "CallControl", "VOSStore", "VOSModel", "VOSTestSupport",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "FirewallTests", dependencies: ["Firewall", "Netfilter", "VOSStore", "VOSModel", "MediaControl", "VOSTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
