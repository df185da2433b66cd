import ArrowCore
import Foundation

/// Paths of the shared Arrow test data, which lives beside the project (`../shared/testdata`).
enum TestData {
    static let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let arrowTesting = projectRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata/arrow-testing/data")
    static let goldDirectory = arrowTesting.appendingPathComponent("arrow-ipc-stream/integration/cpp-21.0.0")

    /// The names of the gold integration cases (`generated_primitive`, ...).
    static let goldCases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: goldDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json.gz") }.map { String($0.dropLast(".json.gz".count)) }.sorted()
    }()

    /// The fuzz regression inputs in one of the data folders.
    static func fuzzFiles(_ folder: String) -> [String] {
        let dir = arrowTesting.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasPrefix("clusterfuzz") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    static func gold(_ name: String, _ ext: String) -> String {
        goldDirectory.appendingPathComponent("\(name).\(ext)").path
    }
}
