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
        .executable(name: "arrow-integration", targets: ["arrow-integration"]),
        .executable(name: "arrow-bench", targets: ["arrow-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
        .target(
            name: "ArrowCore",
            dependencies: ["CLZ4", "CZstd"],
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
            dependencies: ["ArrowCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ArrowCoreTests",
            dependencies: ["ArrowCore"],
            swiftSettings: strict
        ),
    ]
)
