import Foundation

/// A minimal SVG 1.1 writer: shapes and text appended in paint order, written as one
/// standalone document (XML declaration, `xmlns`, `viewBox`). Text is escaped, numbers are
/// written with at most two decimals, so the output is small, valid XML and deterministic.
public struct SVGDocument: Sendable, Equatable {
    public let width: Double
    public let height: Double
    public private(set) var elements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Stroke and fill of a shape; `dash` is an SVG dash array ("6 4"), nil for solid.
    public struct Style: Sendable, Equatable {
        public var stroke: String?
        public var strokeWidth: Double
        public var fill: String?
        public var dash: String?
        public var opacity: Double

        public init(stroke: String? = "#000", width: Double = 1, fill: String? = nil, dash: String? = nil, opacity: Double = 1) {
            self.stroke = stroke
            self.strokeWidth = width
            self.fill = fill
            self.dash = dash
            self.opacity = opacity
        }

        var attributes: String {
            var a = " fill=\"\(SVGDocument.escape(fill ?? "none"))\""
            if let stroke {
                a += " stroke=\"\(SVGDocument.escape(stroke))\" stroke-width=\"\(SVGDocument.number(strokeWidth))\""
            }
            if let dash { a += " stroke-dasharray=\"\(SVGDocument.escape(dash))\"" }
            if opacity < 1 { a += " opacity=\"\(SVGDocument.number(opacity))\"" }
            return a
        }
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ style: Style = Style()) {
        elements.append(
            "<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\"\(style.attributes)/>"
        )
    }

    /// A polyline through `points`; fewer than two points draw nothing.
    public mutating func polyline(_ points: [(x: Double, y: Double)], _ style: Style = Style()) {
        guard points.count >= 2 else { return }
        let coordinates = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(coordinates)\" stroke-linejoin=\"round\"\(style.attributes)/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, _ style: Style = Style()) {
        elements.append(
            "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\"\(style.attributes)/>"
        )
    }

    /// A circle; `title` becomes its tooltip (an SVG `<title>` child).
    public mutating func circle(_ cx: Double, _ cy: Double, radius: Double, _ style: Style = Style(), title: String? = nil) {
        let open = "<circle cx=\"\(Self.number(cx))\" cy=\"\(Self.number(cy))\" r=\"\(Self.number(radius))\"\(style.attributes)"
        elements.append(title.map { "\(open)><title>\(Self.escape($0))</title></circle>" } ?? open + "/>")
    }

    /// A closed polygon (markers such as triangles).
    public mutating func polygon(_ points: [(x: Double, y: Double)], _ style: Style = Style()) {
        let coordinates = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        elements.append("<polygon points=\"\(coordinates)\"\(style.attributes)/>")
    }

    /// Text with its baseline at `y`; `rotate` turns it about (x, y) in degrees (−90: reads upwards).
    public mutating func text(
        _ string: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start, bold: Bool = false,
        color: String = "#000", rotate: Double = 0
    ) {
        var a = "x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\""
        a += " text-anchor=\"\(anchor.rawValue)\" fill=\"\(Self.escape(color))\""
        if bold { a += " font-weight=\"bold\"" }
        if rotate != 0 { a += " transform=\"rotate(\(Self.number(rotate)) \(Self.number(x)) \(Self.number(y)))\"" }
        elements.append("<text \(a)>\(Self.escape(string))</text>")
    }

    /// Starts a group whose drawing is clipped to a rectangle (a chart's plot area);
    /// close it with ``endGroup()``.
    public mutating func beginClippedGroup(id: String, _ x: Double, _ y: Double, _ width: Double, _ height: Double) {
        let i = Self.escape(id)
        elements.append(
            "<clipPath id=\"\(i)\"><rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\"/></clipPath>"
        )
        elements.append("<g clip-path=\"url(#\(i))\">")
    }

    public mutating func endGroup() { elements.append("</g>") }

    /// An XML comment, for a person reading the file.
    public mutating func comment(_ text: String) {
        elements.append("<!-- \(text.replacingOccurrences(of: "--", with: "- -")) -->")
    }

    /// The whole document, ending with a newline.
    public func render() -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(Self.number(width))\""
        out += " height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\""
        out += " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"#fff\"/>\n"
        for e in elements { out += e + "\n" }
        return out + "</svg>\n"
    }

    /// Escapes the five XML special characters, and drops control characters XML 1.0 forbids.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default: if u.value >= 0x20 { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    /// A coordinate with at most two decimals and no trailing zeros (`12`, `3.5`, `-0.25`);
    /// non-finite values (which SVG cannot hold) become 0.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        var s = String(format: "%.2f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}
