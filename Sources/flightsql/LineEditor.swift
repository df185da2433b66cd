import CEditLine
import Foundation

/// Reads the shell's input one line at a time. On a terminal it uses libedit (line editing,
/// history, a prompt); otherwise it reads with `readLine()` and shows no prompt, so that a
/// piped script's output holds nothing but results.
///
/// libedit keeps its state in process globals, so only one editor should exist, used from
/// one task at a time.
final class LineEditor {
    /// Whether standard input is a terminal, and so whether libedit is in use.
    let isInteractive: Bool
    private let historyFile: String?

    /// History beyond this many entries is dropped, oldest first, so the file stays small.
    private static let historyLimit: Int32 = 1000

    /// An editor for standard input. On a terminal, the history in `historyFile` (if any) is
    /// loaded; a missing or unreadable file just means no history yet.
    init(historyFile: String?) {
        isInteractive = isatty(STDIN_FILENO) == 1
        self.historyFile = historyFile
        guard isInteractive else { return }
        using_history()
        stifle_history(Self.historyLimit)
        if let historyFile { _ = read_history(historyFile) }
    }

    /// The next line, without its line ending, or nil at the end of input (Ctrl-D on a
    /// terminal). `prompt` is shown only on a terminal.
    func readLine(prompt: String) -> String? {
        guard isInteractive else { return Swift.readLine(strippingNewline: true) }
        guard let line = readline(prompt) else { return nil }
        defer { free(line) }
        return String(cString: line)
    }

    /// Adds `entry` to the history and writes the history file at once: Ctrl-C ends the
    /// process from inside libedit, so waiting for a clean exit would lose the session.
    /// Does nothing when not on a terminal.
    func addHistory(_ entry: String) {
        guard isInteractive else { return }
        _ = add_history(entry)
        guard let historyFile else { return }
        if write_history(historyFile) == 0 {
            // Statements can hold secrets; the file should be as private as a shell's history.
            _ = chmod(historyFile, 0o600)
        }
    }
}
