// swift-tools-version:6.1
// Silo: a strongly consistent, S3-compatible object store. See ARCHITECTURE.md for the map.
import PackageDescription

/// Settings every Silo target shares: Swift 6 mode with complete strict concurrency (the default in 6),
/// `any` spelled out for existentials, and imports internal unless a file says `public import`.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

/// `SILO_CORE_ONLY=1` leaves out the HTTP front end (Gateway, silo and their tests) and so the Hummingbird
/// stack: quick builds for work on the pure layers and for the release build of `silo-sim`. Use a scratch
/// path of its own (`--scratch-path .build-core`) so the two package shapes do not rebuild each other.
let coreOnly = Context.environment["SILO_CORE_ONLY"] == "1"
let frontEndTargets: Set<String> = ["Gateway", "SiloNode", "silo", "GatewayTests", "ClusterTests"]

let package = Package(
    name: "silo",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "silo", targets: ["silo"]),
        .executable(name: "silo-sim", targets: ["silo-sim"]),
        .executable(name: "silo-jepsen", targets: ["silo-jepsen"]),
        .library(name: "RaftKit", targets: ["RaftKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: System libraries (Debian: zlib1g-dev, libsqlite3-dev, libisal-dev)
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // zlib's CRC-32 fed in pieces: the one wrapper the WAL, volumes, shards and S3 checksums share.
        .target(name: "ZlibCRC", dependencies: ["CZlib"], swiftSettings: strictSettings),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        /// Intel ISA-L's erasure code (Reed–Solomon over GF(2^8)), for erasure-coded buckets.
        .systemLibrary(name: "CISAL", path: "Sources/CISAL"),

        // MARK: Pure protocol pieces
        /// S3 wire protocol without I/O: SigV4, aws-chunked decoding, checksums, XML shapes, ranges,
        /// endpoint parsing, naming rules.
        .target(
            name: "S3Protocol",
            dependencies: [
                "ZlibCRC",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        /// The consistent-hash ring with virtual nodes (pure).
        .target(name: "Placement", swiftSettings: strictSettings),
        /// The `silo-history/1` format and the checkers (WGL linearizability, list-append, set).
        .target(name: "HistoryChecker", swiftSettings: strictSettings),

        /// The one wall clock (with a fault offset in debug builds, for clock nemeses).
        .target(name: "WallClock", swiftSettings: strictSettings),
        /// The cluster secret and the connection challenge the metadata RPC and the chunk protocol share.
        .target(
            name: "ClusterAuth",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),

        // MARK: Consensus and metadata
        .target(
            name: "RaftKit",
            dependencies: nio + [
                "ZlibCRC",
                // HMAC of Raft frames between members that share a secret.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Collections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // The metadata contract: `MetadataService`, its records and `MetaError`. What a gateway links to talk
        // to metadata; no SQLite, no Raft.
        .target(
            name: "MetaContract",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "MetaQuorum",
            dependencies: nio + [
                "MetaContract", "RaftKit", "CSQLite", "ClusterAuth", "WallClock",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                // MD5 of the part MD5s for a multipart ETag, computed by the state machine at apply time.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Bytes
        // The chunk contract: `ChunkStoring` and `BlobError`. What a gateway links to reach bytes; no volumes.
        .target(
            name: "BlobContract",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        // Reed-Solomon over ISA-L: pure arithmetic on shards, used by gateways (stripes) and repair.
        .target(
            name: "Erasure",
            dependencies: ["CISAL", "ZlibCRC", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BlobNode",
            dependencies: nio + [
                "BlobContract", "ZlibCRC", "ClusterAuth", "WallClock",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: S3 front end
        .target(
            name: "Gateway",
            dependencies: [
                "S3Protocol", "MetaContract", "BlobContract", "Erasure", "Placement", "WallClock",
                .product(name: "Hummingbird", package: "hummingbird"),
                // TLS on the S3 endpoint (`--tls-cert`, `--tls-key`), on swift-nio-ssl.
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ] + nio,
            swiftSettings: strictSettings
        ),

        // MARK: Composition
        /// Each role's process, wired from the modules above: `silo meta`, `silo gateway` (and, for now in
        /// Gateway, the all-in-one server). Start-up order, data-directory layout and shutdown live here.
        .target(
            name: "SiloNode",
            dependencies: nio + [
                "Gateway", "MetaQuorum", "BlobNode", "RaftKit", "Placement", "ClusterAuth",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Executables (argument parsing and wiring only)
        .executableTarget(
            name: "silo",
            dependencies: [
                "Gateway", "SiloNode", "MetaQuorum", "BlobNode", "S3Protocol", "RaftKit", "ClusterAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ] + nio,  // `silo blob` owns the event loop group of its BlobServer
            swiftSettings: strictSettings
        ),
        .target(
            name: "SiloSim",
            dependencies: ["RaftKit", "HistoryChecker", "MetaQuorum"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "silo-sim",
            dependencies: ["SiloSim", "MetaQuorum", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "silo-jepsen",
            dependencies: ["HistoryChecker", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),

        /// Fuzz targets for every parser of outside bytes (`ops/fuzz`): a libFuzzer binary when built with
        /// `-sanitize=fuzzer -DSILO_LIBFUZZER`, otherwise a replayer of the saved corpus (debug builds only:
        /// it reaches internal decoders with `@testable import`).
        .executableTarget(
            name: "silo-fuzz",
            dependencies: ["S3Protocol", "RaftKit", "MetaQuorum", "BlobNode"] + nio,
            swiftSettings: strictSettings
        ),

        /// One RaftKit node for the `ops/bench/raft` benchmark (not shipped).
        .executableTarget(
            name: "raft-bench-node",
            dependencies: ["RaftKit"] + nio,
            path: "ops/bench/raft/node",
            swiftSettings: strictSettings
        ),

        /// Timings that only print (group commit against fsync per write, metadata puts, checksums), kept out
        /// of the test suites (`ops/bench/micro`; not shipped).
        .executableTarget(
            name: "silo-microbench",
            dependencies: [
                "BlobNode", "MetaQuorum", "S3Protocol", "RaftKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "ops/bench/micro",
            swiftSettings: strictSettings
        ),

        // MARK: Tests
        .testTarget(name: "S3ProtocolTests", dependencies: ["S3Protocol"], swiftSettings: strictSettings),
        .testTarget(name: "PlacementTests", dependencies: ["Placement"], swiftSettings: strictSettings),
        .testTarget(name: "HistoryCheckerTests", dependencies: ["HistoryChecker"], swiftSettings: strictSettings),
        .testTarget(
            name: "RaftKitTests",
            dependencies: ["RaftKit", "SiloSim"],
            resources: [.copy("Scenarios")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "MetaQuorumTests", dependencies: ["MetaQuorum", "RaftKit"], swiftSettings: strictSettings),
        .testTarget(name: "BlobNodeTests", dependencies: ["BlobNode", "Erasure", "ClusterAuth"] + nio, swiftSettings: strictSettings),
        /// A metadata group of real replicas over TCP, reached through the metadata RPC as a gateway does.
        .testTarget(
            name: "ClusterTests",
            dependencies: ["MetaQuorum", "RaftKit", "SiloNode", "ClusterAuth"] + nio,
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "S3Protocol", "MetaQuorum", "BlobNode", "Placement",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                // The router test client: requests go to the responder without a socket.
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)

if coreOnly {
    package.targets.removeAll { frontEndTargets.contains($0.name) }
    package.products.removeAll { $0.name == "silo" }
}
