// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "swift-arrow-flight",
    products: [
        .library(name: "ArrowCore", targets: ["ArrowCore"]),
        .library(name: "Parquet", targets: ["Parquet"]),
        .library(name: "FlightRPC", targets: ["FlightRPC"]),
        .library(name: "FlightManager", targets: ["FlightManager"]),
        .library(name: "FlightSQL", targets: ["FlightSQL"]),
        .library(name: "FlightSQLSQLite", targets: ["FlightSQLSQLite"]),
        .library(name: "SparkConnect", targets: ["SparkConnect"]),
        .library(name: "FlightSQLSpark", targets: ["FlightSQLSpark"]),
        .library(name: "FlightDataSource", targets: ["FlightDataSource"]),
        .library(name: "ArrowCDataBridge", type: .dynamic, targets: ["ArrowCDataBridge"]),
        .executable(name: "arrow-integration", targets: ["arrow-integration"]),
        .executable(name: "arrow-bench", targets: ["arrow-bench"]),
        .executable(name: "flight-bench", targets: ["flight-bench"]),
        .executable(name: "flight", targets: ["flight"]),
        .executable(name: "flight-file-server", targets: ["flight-file-server"]),
        .executable(name: "parquet-flight-server", targets: ["parquet-flight-server"]),
        .executable(name: "flight-sql-server", targets: ["flight-sql-server"]),
        .executable(name: "flightsql", targets: ["flightsql"]),
        .executable(name: "parquet", targets: ["parquet"]),
        .executable(name: "parquet-fuzz", targets: ["parquet-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(name: "CArrowABI"),
        .systemLibrary(
            name: "CSnappy",
            pkgConfig: "snappy",
            providers: [.apt(["libsnappy-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CBrotli",
            pkgConfig: "libbrotlidec",
            providers: [.apt(["libbrotli-dev"])]
        ),
        .systemLibrary(
            name: "CNGHTTP2",
            pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]
        ),
        .systemLibrary(name: "CSystemShims"),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "FlightRPC",
            dependencies: [
                "ArrowCore", "CNGHTTP2", "COpenSSL", "CSystemShims",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Generated/README.md"],
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZooKeeper",
            providers: [.apt(["libzookeeper-mt-dev"])]
        ),
        .target(
            name: "FlightManager",
            dependencies: [
                "ArrowCore", "FlightRPC", "CZooKeeper",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ClusterCommandLine",
            dependencies: [
                "FlightManager", "FlightRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "FlightSQL",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightManager",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Generated/README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "FlightSQLSQLite",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightManager", "FlightSQL", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SparkConnect",
            dependencies: [
                "ArrowCore", "FlightRPC",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Generated/README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "FlightSQLSpark",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightManager", "FlightSQL", "SparkConnect", "Parquet",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "FlightDataSource",
            dependencies: ["ArrowCore", "FlightRPC", "FlightSQL", "Parquet"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "flight-sql-server",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightManager", "FlightSQL", "FlightSQLSQLite", "FlightSQLSpark", "SparkConnect", "COpenSSL",
                "ClusterCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .executableTarget(
            name: "flightsql",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightSQL", "FlightDataSource", "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/flightsql",
            swiftSettings: strict
        ),
        .target(
            name: "ArrowCore",
            dependencies: ["CArrowABI", "CLZ4", "CZstd"],
            swiftSettings: strict
        ),
        .target(
            name: "Parquet",
            dependencies: ["ArrowCore", "CSnappy", "CZlib", "CBrotli", "COpenSSL"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "parquet-fuzz",
            dependencies: ["ArrowCore", "Parquet"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "parquet",
            dependencies: [
                "ArrowCore", "Parquet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ArrowCDataBridge",
            dependencies: ["ArrowCore", "CArrowABI"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "arrow-integration",
            dependencies: [
                "ArrowCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "arrow-bench",
            dependencies: ["ArrowCore", "Parquet"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "flight-bench",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightManager", "ClusterCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "flight",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightDataSource",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "flight-file-server",
            dependencies: [
                "ArrowCore", "FlightRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/FlightFileServer",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "parquet-flight-server",
            dependencies: [
                "ArrowCore", "FlightRPC", "FlightManager", "Parquet", "ClusterCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/ParquetFlightServer",
            swiftSettings: strict
        ),
        .testTarget(
            name: "FlightRPCTests",
            dependencies: ["ArrowCore", "FlightRPC"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FlightSQLTests",
            dependencies: ["ArrowCore", "FlightRPC", "FlightManager", "FlightSQL", "FlightSQLSQLite"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ArrowCoreTests",
            dependencies: ["ArrowCore", "CArrowABI"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FlightDataSourceTests",
            dependencies: ["ArrowCore", "FlightRPC", "FlightDataSource", "Parquet"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SparkConnectTests",
            dependencies: ["ArrowCore", "FlightRPC", "SparkConnect"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FlightSQLSparkTests",
            dependencies: ["ArrowCore", "FlightRPC", "FlightManager", "FlightSQL", "FlightSQLSpark", "SparkConnect"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ParquetTests",
            dependencies: ["ArrowCore", "Parquet"],
            swiftSettings: strict
        ),
    ]
)
