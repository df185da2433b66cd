import FlightRPC
import Foundation

/// The progress of a read shown on standard error while it runs, when standard error is a
/// terminal: rows, megabytes, megabytes per second and endpoints, rewritten in place a few
/// times a second. For command-line tools.
public final class ProgressLine: Sendable {
    private let reader: FlightResultReader
    private let started = Date()
    private let task: Task<Void, Never>?

    /// Starts showing `reader`'s progress, if standard error is a terminal (or `force`).
    public init(_ reader: FlightResultReader, force: Bool = false) {
        self.reader = reader
        let started = started
        if force || isatty(2) == 1 {
            task = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    if Task.isCancelled { break }
                    Self.show("\r\u{1B}[K" + Self.describe(reader.progress, since: started))
                }
            }
        } else {
            task = nil
        }
    }

    /// Stops updating the line and clears it; again, nothing.
    public func stop() {
        guard let task, !task.isCancelled else { return }
        task.cancel()
        Self.show("\r\u{1B}[K")
    }

    /// Stops, then shows ``summary()`` on its own line, when the line was shown at all.
    public func finish() {
        guard task != nil else { return }
        stop()
        Self.show(summary() + "\n")
    }

    /// ` (N failovers)` when the read had any, else nothing: for a tool's closing line.
    public static func failoverNote(_ progress: FlightReadProgress) -> String {
        progress.failovers == 0 ? "" : " (\(progress.failovers) failover\(progress.failovers == 1 ? "" : "s"))"
    }

    /// One line of `progress`: rows, MB, MB/s since `since`, endpoints, failovers.
    public static func describe(_ progress: FlightReadProgress, since: Date) -> String {
        let seconds = max(Date().timeIntervalSince(since), 0.001)
        let megabytes = Double(progress.bytes) / 1e6
        var line = "\(progress.rows) rows, " + String(format: "%.1f MB, %.1f MB/s", megabytes, megabytes / seconds)
            + ", endpoints \(progress.endpointsDone)/\(progress.endpoints)"
        if progress.failovers > 0 { line += ", \(progress.failovers) failover\(progress.failovers == 1 ? "" : "s")" }
        return line
    }

    /// The summary of the finished read: the line, with the time it took.
    public func summary() -> String {
        let seconds = Date().timeIntervalSince(started)
        return Self.describe(reader.progress, since: started) + String(format: " in %.2f s", seconds)
    }

    private static func show(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
