import Foundation

/// A numeric table read from a CSV file: a header row naming the columns, then one row of
/// numbers per example; one named column is the target, the others are the features.
///
/// Accepted: `,` separators, LF or CRLF line ends, a trailing newline, blank lines (skipped),
/// a UTF-8 byte-order mark, spaces around cells, and RFC 4180 double-quoted cells (which
/// may contain commas and `""` escapes, but not line breaks). Every cell must be a finite
/// decimal number. Anything else is a `WorkloadError` naming the file, line and column and
/// saying what to fix; nothing here traps on bad input.
public struct CSVDataset: Sendable, Equatable {
    /// The path or name the table was read from, as given (used in messages).
    public let source: String
    public let featureNames: [String]
    public let targetName: String
    public let rowCount: Int
    /// Features, row-major: `features[r * featureCount + c]`.
    public let features: [Double]
    public let targets: [Double]
    /// The 1-based file line of each row, for messages about a row found later (a bad label).
    public let lineNumbers: [Int]

    public var featureCount: Int { featureNames.count }

    /// Reads and parses `path`.
    public static func load(path: String, target: String = "target") throws -> CSVDataset {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let exists = FileManager.default.fileExists(atPath: path)
            throw WorkloadError(
                exists
                    ? "cannot read dataset '\(path)' (\(error.localizedDescription)); check the file's permissions"
                    : "dataset file '\(path)' does not exist; check the path (relative paths resolve against the task file's folder)")
        }
        return try CSVDataset(bytes: [UInt8](data), source: path, target: target)
    }

    public init(text: String, source: String, target: String = "target") throws {
        try self.init(bytes: Array(text.utf8), source: source, target: target)
    }

    public init(bytes: [UInt8], source: String, target: String = "target") throws {
        self.source = source
        var lines = Self.lines(bytes)
        if lines.first.map({ bytes[$0.range].starts(with: [0xEF, 0xBB, 0xBF]) }) == true {
            lines[0].range = lines[0].range.dropFirst(3)
        }
        lines.removeAll { line in bytes[line.range].allSatisfy { $0 == 0x20 || $0 == 0x09 } }
        guard let headerLine = lines.first else {
            throw WorkloadError("\(source) is empty: it needs a header row naming the columns (one of them '\(target)') and rows of numbers below it")
        }
        let header = try Self.fields(bytes[headerLine.range], source: source, line: headerLine.number)
        var seen: [String: Int] = [:]
        for (i, name) in header.enumerated() {
            guard !name.isEmpty else {
                throw WorkloadError("\(source) line \(headerLine.number): column \(i + 1) of the header has no name; name every column")
            }
            if let j = seen[name] {
                throw WorkloadError("\(source) line \(headerLine.number): column '\(name)' appears twice (columns \(j + 1) and \(i + 1)); give columns distinct names")
            }
            seen[name] = i
        }
        guard let targetIndex = seen[target] else {
            throw WorkloadError("\(source) has no column '\(target)' (columns: \(header.joined(separator: ", "))); name the label column '\(target)' or set the workload's `target` to one of these")
        }
        guard header.count >= 2 else {
            throw WorkloadError("\(source) line \(headerLine.number): the only column is the target '\(target)'; add at least one feature column")
        }
        guard lines.count >= 2 else {
            throw WorkloadError("\(source) line \(headerLine.number): the file has a header but no data rows; add at least one row of numbers below the header")
        }
        let m = header.count
        var features = [Double](), targets = [Double](), numbers = [Int]()
        features.reserveCapacity((lines.count - 1) * (m - 1))
        targets.reserveCapacity(lines.count - 1)
        numbers.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() {
            let cells = try Self.fields(bytes[line.range], source: source, line: line.number)
            guard cells.count == m else {
                throw WorkloadError("\(source) line \(line.number) has \(cells.count) field\(cells.count == 1 ? "" : "s"), the header (line \(headerLine.number)) has \(m); give every row one value per column")
            }
            for (c, cell) in cells.enumerated() {
                let v = try Self.number(cell, source: source, line: line.number, column: header[c])
                if c == targetIndex { targets.append(v) } else { features.append(v) }
            }
            numbers.append(line.number)
        }
        self.featureNames = header.enumerated().filter { $0.offset != targetIndex }.map(\.element)
        self.targetName = target
        self.rowCount = targets.count
        self.features = features
        self.targets = targets
        self.lineNumbers = numbers
    }

    // MARK: parsing

    struct Line { var number: Int; var range: Range<Int> }

    /// Line ranges without their `\n` or `\r\n`, numbered from 1.
    static func lines(_ bytes: [UInt8]) -> [Line] {
        var out = [Line](), start = 0, number = 1
        for i in bytes.indices where bytes[i] == 0x0A {
            let end = i > start && bytes[i - 1] == 0x0D ? i - 1 : i
            out.append(Line(number: number, range: start..<end))
            start = i + 1
            number += 1
        }
        if start < bytes.count {
            let end = bytes[bytes.count - 1] == 0x0D ? bytes.count - 1 : bytes.count
            out.append(Line(number: number, range: start..<end))
        }
        return out
    }

    /// The cells of one line, unquoted and trimmed of spaces.
    static func fields(_ line: ArraySlice<UInt8>, source: String, line number: Int) throws -> [String] {
        var out = [String](), cell = [UInt8](), quoted = false, wasQuoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let b = line[i]
            if quoted {
                if b == 0x22 {
                    if i + 1 < line.endIndex && line[i + 1] == 0x22 { cell.append(0x22); i += 1 } else { quoted = false }
                } else {
                    cell.append(b)
                }
            } else if b == 0x2C {
                out.append(Self.finish(cell, wasQuoted))
                cell.removeAll(keepingCapacity: true)
                wasQuoted = false
            } else if b == 0x22 && cell.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                cell.removeAll(keepingCapacity: true)
                quoted = true
                wasQuoted = true
            } else {
                cell.append(b)
            }
            i += 1
        }
        guard !quoted else {
            throw WorkloadError("\(source) line \(number): a quoted field is not closed; end it with \" (quoted fields cannot span lines)")
        }
        out.append(Self.finish(cell, wasQuoted))
        return out
    }

    private static func finish(_ cell: [UInt8], _ quoted: Bool) -> String {
        let s = String(decoding: cell, as: UTF8.self)
        return quoted ? s : trimmed(s)
    }

    /// `s.trimmingCharacters(in: .whitespaces)`, skipping Foundation (most of the load time of
    /// a numeric CSV) when there is nothing to trim: first and last bytes printable ASCII.
    static func trimmed(_ s: String) -> String {
        guard let f = s.utf8.first, let l = s.utf8.last, (0x21...0x7E).contains(f), (0x21...0x7E).contains(l) else {
            return s.isEmpty ? s : s.trimmingCharacters(in: .whitespaces)
        }
        return s
    }

    static func number(_ cell: String, source: String, line: Int, column: String) throws -> Double {
        var where_: String { "\(source) line \(line), column '\(column)'" }
        let trimmed = Self.trimmed(cell)
        guard !trimmed.isEmpty else {
            throw WorkloadError("\(where_) is empty; fill in a number (missing values are not supported: impute or drop the row)")
        }
        guard let v = Double(trimmed) else {
            throw WorkloadError("\(where_): '\(cell)' is not a number; write a plain decimal number such as 3 or -0.25 (no units, no thousands separators; encode categories as numbers)")
        }
        guard v.isFinite else {
            throw WorkloadError("\(where_): '\(cell)' is not a finite number (NaN or infinity); replace it with a real value or drop the row")
        }
        return v
    }
}
