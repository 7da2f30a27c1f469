/// A plain-text table: a header row, a rule, and rows whose columns are padded to the widest
/// cell. Numeric columns are right-aligned so that digits line up.
///
///     ID  NAME        STATUS     STEPS
///     --  ----------  ---------  -----------
///      7  digits-pbt  running    9600/32000
public struct TextTable: Sendable, Equatable {
    public enum Alignment: Sendable, Equatable { case left, right }

    public struct Column: Sendable, Equatable {
        public var title: String
        public var alignment: Alignment
        public init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    public var columns: [Column]
    public private(set) var rows: [[String]] = []

    public init(columns: [Column]) { self.columns = columns }

    /// Appends a row; missing cells are blank, extra cells are dropped.
    public mutating func append(_ cells: [String]) {
        var row = Array(cells.prefix(columns.count))
        while row.count < columns.count { row.append("") }
        rows.append(row)
    }

    /// The table as lines (no trailing newline on each). Trailing spaces are trimmed.
    public func lines() -> [String] {
        var widths = columns.map { $0.title.count }
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                parts.append(columns[i].alignment == .right ? pad + cell : cell + pad)
            }
            var line = parts.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        var out = [render(columns.map(\.title))]
        out.append(render(widths.map { String(repeating: "-", count: $0) }))
        out += rows.map(render)
        return out
    }

    /// `lines()` joined with newlines, ending with one.
    public func render() -> String { lines().joined(separator: "\n") + "\n" }
}
