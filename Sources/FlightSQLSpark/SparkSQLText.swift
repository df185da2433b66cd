/// What the gateway reads from a Spark SQL statement's text before Spark sees it: its
/// parameter markers, its first keyword, and whether it ends in a top-level ORDER BY. The scan
/// skips string literals (`'...'`, `"..."`, with backslash escapes), quoted identifiers
/// (`` `...` ``) and comments (`-- ...`, `/* ... */`, nested as Spark allows).
struct SparkSQLText: Sendable, Equatable {
    /// How many `?` markers the statement has.
    var positionalMarkers = 0
    /// The `:name` markers, in order of first appearance.
    var namedMarkers: [String] = []
    /// The first keyword, upper-cased (empty for none).
    var firstKeyword = ""
    /// Whether ORDER BY appears outside every parenthesis: the result is sorted.
    var ordersResult = false

    /// Statements whose first keyword makes them queries (their result rows are the point).
    static let queryKeywords: Set<String> = ["SELECT", "WITH", "VALUES", "TABLE", "FROM", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "("]

    /// Whether the statement is a query rather than DDL or DML.
    var isQuery: Bool { Self.queryKeywords.contains(firstKeyword) }

    init(_ sql: String) {
        let text = Array(sql.unicodeScalars)
        var i = 0
        var depth = 0
        var previousWord = ""
        func isWordStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
        func isWord(_ c: Unicode.Scalar) -> Bool { isWordStart(c) || ("0"..."9").contains(c) }
        while i < text.count {
            let c = text[i]
            let next: Unicode.Scalar? = i + 1 < text.count ? text[i + 1] : nil
            switch c {
            case "'", "\"", "`":
                // A literal or quoted identifier: skip to its closing quote.
                let quote = c
                i += 1
                while i < text.count {
                    if text[i] == "\\" && quote != "`" {
                        i += 2
                        continue
                    }
                    if text[i] == quote {
                        if quote == "`", i + 1 < text.count, text[i + 1] == "`" {
                            i += 2
                            continue
                        }
                        break
                    }
                    i += 1
                }
                i += 1
                previousWord = ""
                if firstKeyword.isEmpty { firstKeyword = "?" }
                continue
            case "-" where next == "-":
                while i < text.count && text[i] != "\n" { i += 1 }
                continue
            case "/" where next == "*":
                var level = 0
                while i < text.count {
                    if text[i] == "/", i + 1 < text.count, text[i + 1] == "*" {
                        level += 1
                        i += 2
                    } else if text[i] == "*", i + 1 < text.count, text[i + 1] == "/" {
                        level -= 1
                        i += 2
                        if level == 0 { break }
                    } else {
                        i += 1
                    }
                }
                continue
            case "(":
                if firstKeyword.isEmpty { firstKeyword = "(" }
                depth += 1
            case ")":
                depth = max(0, depth - 1)
            case "?":
                positionalMarkers += 1
            case ":" where next.map(isWordStart) ?? false && !(i > 0 && text[i - 1] == ":"):
                var j = i + 1
                while j < text.count && isWord(text[j]) { j += 1 }
                let name = String(String.UnicodeScalarView(text[(i + 1)..<j]))
                if !namedMarkers.contains(name) { namedMarkers.append(name) }
                i = j
                continue
            default:
                if isWordStart(c) {
                    var j = i
                    while j < text.count && isWord(text[j]) { j += 1 }
                    let word = String(String.UnicodeScalarView(text[i..<j])).uppercased()
                    if firstKeyword.isEmpty { firstKeyword = word }
                    if word == "BY" && previousWord == "ORDER" && depth == 0 { ordersResult = true }
                    previousWord = word
                    i = j
                    continue
                }
                if !c.properties.isWhitespace { previousWord = "" }
            }
            i += 1
        }
    }
}
