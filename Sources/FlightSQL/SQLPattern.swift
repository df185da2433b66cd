/// SQL LIKE-style matching for the metadata filters: `%` any run, `_` one character,
/// `\\` escapes the next character. Case-sensitive, as the patterns are identifiers.
///
/// Greedy with one backtracking point (the last `%`), so time is at most the product of the
/// two lengths whatever the pattern: a client's pattern cannot make it run away.
package enum SQLPattern {
    private enum Token: Equatable {
        case any
        case one
        case literal(Character)
    }

    /// Whether `value` matches `pattern` (nil or empty matches everything).
    package static func matches(_ pattern: String?, _ value: String) -> Bool {
        guard let pattern, !pattern.isEmpty else { return true }
        var tokens: [Token] = []
        var escaped = false
        for character in pattern {
            if escaped {
                tokens.append(.literal(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                tokens.append(character == "%" ? .any : character == "_" ? .one : .literal(character))
            }
        }
        if escaped { tokens.append(.literal("\\")) }
        let text = Array(value)
        var t = 0, v = 0
        var star: Int?, resume = 0
        while v < text.count {
            if t < tokens.count, tokens[t] == .one || tokens[t] == .literal(text[v]) {
                t += 1
                v += 1
            } else if t < tokens.count, tokens[t] == .any {
                star = t
                resume = v
                t += 1
            } else if let star {
                t = star + 1
                resume += 1
                v = resume
            } else {
                return false
            }
        }
        while t < tokens.count, tokens[t] == .any { t += 1 }
        return t == tokens.count
    }
}
