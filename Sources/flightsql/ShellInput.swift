import Foundation

/// One complete piece of shell input.
enum ShellRequest: Sendable {
    /// A SQL statement to send, without its final `;`.
    case statement(String)
    /// A backslash command: its name without the backslash (`tables`), and the rest of the
    /// line, trimmed (empty when there is none).
    case command(name: String, argument: String)

    /// The request a `-c` argument makes: a backslash command when it starts with `\`,
    /// otherwise one statement (a final `;` is optional); nil when there is nothing to run.
    init?(argument: String) {
        if let command = Self.command(argument) {
            self = command
            return
        }
        let statement = Self.strippingTerminator(argument)
        guard !statement.isEmpty else { return nil }
        self = .statement(statement)
    }

    /// The command `line` holds, if its first non-blank character is a backslash.
    static func command(_ line: String) -> ShellRequest? {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.first == "\\" else { return nil }
        let body = trimmed.dropFirst()
        guard let space = body.firstIndex(where: \.isWhitespace) else {
            return .command(name: String(body), argument: "")
        }
        return .command(name: String(body[..<space]), argument: String(body[space...]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `text` without surrounding whitespace and trailing semicolons.
    static func strippingTerminator(_ text: String) -> String {
        var text = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        while let last = text.last, last == ";" || last.isWhitespace { text.removeLast() }
        return String(text)
    }
}

/// Gathers input lines into requests. A backslash command is one line of its own; a
/// statement runs on until a line whose trimmed text ends with `;`, so a `;` inside a line
/// (in a string literal, say) never cuts a statement short.
struct InputCollector {
    private var pending: [String] = []

    /// An empty collector.
    init() {}

    /// Whether a statement has begun and awaits its `;` (the shell shows its continuation
    /// prompt then).
    var isCollecting: Bool { !pending.isEmpty }

    /// Takes one line (without its line ending). Returns the request it completes, with the
    /// text as typed for the history (a statement's lines joined by newlines, `;` kept), or
    /// nil while a statement is still open. A backslash line runs as a command even in the
    /// middle of a statement, which stays pending, so `\q` always quits.
    mutating func add(_ line: String) -> (request: ShellRequest, text: String)? {
        if let command = ShellRequest.command(line) {
            return (command, line.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty && pending.isEmpty { return nil }
        pending.append(line)
        guard trimmed.hasSuffix(";") else { return nil }
        return take()
    }

    /// At the end of input: the statement still open, run as if it had its `;`, or nil.
    mutating func finish() -> (request: ShellRequest, text: String)? {
        take()
    }

    private mutating func take() -> (request: ShellRequest, text: String)? {
        let text = pending.joined(separator: "\n")
        pending = []
        let statement = ShellRequest.strippingTerminator(text)
        guard !statement.isEmpty else { return nil }
        return (.statement(statement), text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
