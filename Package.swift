// swift-tools-version: 6.0
// tuned — hyperparameter auto-tuning and meta-learning daemon.
// Module layout and the reasons for it: docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "tuned",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tuned", targets: ["tuned"]),
        .executable(name: "tunectl", targets: ["tunectl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C enters here and nowhere else: GSL, with OpenBLAS as its CBLAS.
        .systemLibrary(name: "CGSL", path: "Sources/CGSL"),
        .target(name: "TunedMath", dependencies: ["CGSL"]),
        .target(name: "TunedOptim", dependencies: ["TunedMath"]),
        .target(name: "TunedWorkloads", dependencies: ["TunedMath", "TunedOptim"]),
        .target(name: "TunedBench", dependencies: ["TunedMath", "TunedOptim", "TunedWorkloads", "TunedRPC"]),
        // SQLite persistence; the schema lives in store/migrations/ (see docs/STORE.md).
        .target(name: "TunedStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // JSON-RPC types, line framing and a blocking client; Foundation only (tunectl links just this).
        .target(name: "TunedRPC"),
        // Task files (TOML/JSON), validation, search spaces and the tuning strategies as pure state machines.
        .target(name: "TunedEngine", dependencies: ["TunedMath", "TunedOptim", "TunedWorkloads"]),
        // What a worker runs for one leased segment: a built-in workload or a command workload.
        .target(name: "TunedWorker", dependencies: ["TunedWorkloads", "TunedOptim", "TunedRPC"]),
        // Meta-learning: task features, the critical-batch-size model, the recommendation policy.
        .target(name: "TunedMeta", dependencies: ["TunedMath", "TunedOptim", "TunedWorkloads", "TunedEngine"]),
        // The daemon: NIO socket server, RPC methods, worker supervisor, one ServiceGroup, logging.
        .target(
            name: "TunedDaemon",
            dependencies: [
                "TunedStore", "TunedRPC", "TunedEngine", "TunedWorker", "TunedWorkloads", "TunedMeta",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "tuned",
            dependencies: [
                "TunedOptim", "TunedWorkloads", "TunedBench", "TunedWorker", "TunedEngine", "TunedDaemon", "TunedRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // tunectl's testable part: tables, ETA, CSV/JSON export, exit codes (TunedRPC only).
        .target(name: "TunedCLI", dependencies: ["TunedRPC"]),
        // The command-line client: links no numerics, only the protocol and the argument parser.
        .executableTarget(
            name: "tunectl",
            dependencies: ["TunedCLI", "TunedRPC", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "TunedMathTests", dependencies: ["TunedMath"]),
        .testTarget(name: "TunedMetaTests", dependencies: ["TunedMeta", "TunedWorkloads", "TunedOptim", "TunedMath", "TunedEngine"]),
        .testTarget(
            name: "TunedOptimTests", dependencies: ["TunedOptim"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TunedWorkloadsTests", dependencies: ["TunedWorkloads"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "TunedCLITests", dependencies: ["tuned"]),
        .testTarget(name: "TunedCLITunectlTests", dependencies: ["TunedCLI", "TunedRPC", "tunectl"]),
        .testTarget(name: "TunedDaemonTests", dependencies: ["tuned", "tunectl", "TunedRPC", "TunedDaemon", "TunedStore"]),
        .testTarget(name: "TunedStoreTests", dependencies: ["TunedStore"]),
        .testTarget(name: "TunedRPCTests", dependencies: ["TunedRPC"]),
        .testTarget(
            name: "TunedEngineTests", dependencies: ["TunedEngine", "TunedWorkloads", "TunedOptim", "TunedMath"],
            resources: [.copy("Fixtures")]
        ),
        // Operations: configuration file, allow-list, sd_notify, install.sh, the unit, worker limits.
        .testTarget(
            name: "TunedOpsTests", dependencies: ["tuned", "TunedDaemon", "TunedEngine", "TunedWorker", "TunedRPC"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TunedWorkerTests", dependencies: ["TunedWorker", "TunedWorkloads", "TunedOptim", "TunedRPC"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
