import Foundation

/// One chart: a title, two labelled axes with ticks and grid lines, polylines, dots, point
/// markers, vertical marker lines and a legend to the right of the plot area. `draw` paints it
/// into a rectangle of an ``SVGDocument``, so a figure can stack several charts.
public struct SVGPlot: Sendable {
    /// A line through (x, y) points; a NaN or infinite y (or a non-positive one on a log
    /// axis) breaks the line, so a diverged member's curve simply stops.
    public struct Series: Sendable {
        public var label: String?
        public var points: [(x: Double, y: Double)]
        public var color: String
        public var width: Double
        public var dash: String?
        public var opacity: Double

        public init(
            _ label: String?, points: [(x: Double, y: Double)], color: String, width: Double = 1.5,
            dash: String? = nil, opacity: Double = 1
        ) {
            self.label = label
            self.points = points
            self.color = color
            self.width = width
            self.dash = dash
            self.opacity = opacity
        }
    }

    /// Measured points drawn as dots (no line), each with an optional tooltip.
    public struct Scatter: Sendable {
        public var label: String?
        public var points: [(x: Double, y: Double, title: String?)]
        public var color: String

        public init(_ label: String?, points: [(x: Double, y: Double, title: String?)], color: String) {
            self.label = label
            self.points = points
            self.color = color
        }
    }

    /// A filled triangle at (x, y) with an optional short caption above it.
    public struct Marker: Sendable {
        public var x: Double
        public var y: Double
        public var caption: String?
        public init(x: Double, y: Double, caption: String? = nil) {
            self.x = x
            self.y = y
            self.caption = caption
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xAxis: PlotAxis
    public var yAxis: PlotAxis
    public var series: [Series] = []
    public var scatter: [Scatter] = []
    public var markers: [Marker] = []
    /// The markers' legend entry and colour.
    public var markerLabel = "exploit"
    public var markerColor = "#d62728"
    /// x positions of dashed vertical lines (exploits), drawn under the series.
    public var verticalLines: [Double] = []

    public init(title: String, xLabel: String, yLabel: String, xAxis: PlotAxis, yAxis: PlotAxis) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xAxis = xAxis
        self.yAxis = yAxis
    }

    /// Space around the plot area: tick labels and axis titles left and below, the title
    /// above, the legend to the right.
    static let margin = (left: 78.0, right: 230.0, top: 34.0, bottom: 50.0)

    /// Paints the chart into the rectangle (x, y, width, height); `id` names its clip path.
    public func draw(into doc: inout SVGDocument, x: Double, y: Double, width: Double, height: Double, id: String) {
        let m = Self.margin
        let px = x + m.left
        let py = y + m.top
        let pw = max(10, width - m.left - m.right)
        let ph = max(10, height - m.top - m.bottom)
        func sx(_ v: Double) -> Double { px + xAxis.fraction(v) * pw }
        func sy(_ v: Double) -> Double { py + ph - yAxis.fraction(v) * ph }

        doc.text(title, x: px + pw / 2, y: y + 20, size: 15, anchor: .middle, bold: true)
        // Grid and ticks.
        let grid = SVGDocument.Style(stroke: "#e3e3e3", width: 1)
        let tick = SVGDocument.Style(stroke: "#333", width: 1)
        for t in xAxis.ticks {
            let tx = sx(t)
            doc.line(tx, py, tx, py + ph, grid)
            doc.line(tx, py + ph, tx, py + ph + 5, tick)
            doc.text(PlotAxis.label(t), x: tx, y: py + ph + 18, size: 11, anchor: .middle)
        }
        for t in yAxis.ticks {
            let ty = sy(t)
            doc.line(px, ty, px + pw, ty, grid)
            doc.line(px - 5, ty, px, ty, tick)
            doc.text(PlotAxis.label(t), x: px - 8, y: ty + 4, size: 11, anchor: .end)
        }
        doc.rect(px, py, pw, ph, SVGDocument.Style(stroke: "#333", width: 1))
        doc.text(xLabel, x: px + pw / 2, y: py + ph + 40, size: 13, anchor: .middle)
        let scaleNote = yAxis.scale == .log ? " (log scale)" : ""
        doc.text(yLabel + scaleNote, x: x + 18, y: py + ph / 2, size: 13, anchor: .middle, rotate: -90)

        // Data, clipped to the plot area.
        doc.beginClippedGroup(id: id, px, py, pw, ph)
        for v in verticalLines {
            doc.line(sx(v), py, sx(v), py + ph, SVGDocument.Style(stroke: markerColor, width: 1, dash: "4 4", opacity: 0.6))
        }
        for s in series {
            let style = SVGDocument.Style(stroke: s.color, width: s.width, dash: s.dash, opacity: s.opacity)
            for run in runs(s.points, sx: sx, sy: sy) { doc.polyline(run, style) }
        }
        for sc in scatter {
            for p in sc.points {
                let (X, Y) = (sx(p.x), sy(p.y))
                guard X.isFinite, Y.isFinite else { continue }
                doc.circle(X, Y, radius: 4, SVGDocument.Style(stroke: "#fff", width: 0.8, fill: sc.color), title: p.title)
            }
        }
        for mk in markers {
            let (mx, my) = (sx(mk.x), sy(mk.y))
            guard mx.isFinite, my.isFinite else { continue }
            doc.polygon(
                [(mx, my - 6), (mx - 5, my + 4), (mx + 5, my + 4)],
                SVGDocument.Style(stroke: "#fff", width: 0.8, fill: markerColor))
        }
        doc.endGroup()
        for mk in markers {
            guard let caption = mk.caption else { continue }
            let (mx, my) = (sx(mk.x), sy(mk.y))
            guard mx.isFinite, my.isFinite else { continue }
            doc.text(caption, x: mx, y: max(py + 10, my - 9), size: 10, anchor: .middle, color: markerColor)
        }
        drawLegend(into: &doc, x: px + pw + 14, y: py, height: ph)
    }

    /// The legend: one row per labelled series (a short line in its style), then the markers.
    func drawLegend(into doc: inout SVGDocument, x: Double, y: Double, height: Double) {
        var entries: [(label: String, draw: (inout SVGDocument, Double, Double) -> Void)] = []
        for s in series {
            guard let label = s.label else { continue }
            let style = SVGDocument.Style(stroke: s.color, width: s.width, dash: s.dash, opacity: s.opacity)
            entries.append((label, { d, ex, ey in d.line(ex, ey, ex + 24, ey, style) }))
        }
        for sc in scatter {
            guard let label = sc.label else { continue }
            let style = SVGDocument.Style(stroke: nil, fill: sc.color)
            entries.append((label, { d, ex, ey in d.circle(ex + 12, ey, radius: 4, style) }))
        }
        if !markers.isEmpty {
            let color = markerColor
            entries.append(
                (markerLabel, { d, ex, ey in
                    d.polygon(
                        [(ex + 12, ey - 6), (ex + 7, ey + 4), (ex + 17, ey + 4)],
                        SVGDocument.Style(stroke: nil, fill: color))
                }))
        }
        let rowHeight = 17.0
        let capacity = max(1, Int((height - 8) / rowHeight))
        var shown = entries
        if entries.count > capacity {
            shown = Array(entries.prefix(capacity - 1))
        }
        for (i, e) in shown.enumerated() {
            let ey = y + 10 + Double(i) * rowHeight
            e.draw(&doc, x, ey)
            doc.text(Self.shorten(e.label, to: 30), x: x + 30, y: ey + 4, size: 11)
        }
        if shown.count < entries.count {
            let ey = y + 10 + Double(shown.count) * rowHeight
            doc.text("… and \(entries.count - shown.count) more", x: x + 30, y: ey + 4, size: 11, color: "#555")
        }
    }

    /// Splits points into drawable runs at non-finite screen coordinates.
    func runs(_ points: [(x: Double, y: Double)], sx: (Double) -> Double, sy: (Double) -> Double)
        -> [[(x: Double, y: Double)]]
    {
        var out: [[(x: Double, y: Double)]] = []
        var current: [(x: Double, y: Double)] = []
        for p in points {
            let (X, Y) = (sx(p.x), sy(p.y))
            if X.isFinite && Y.isFinite && p.y.isFinite {
                current.append((X, Y))
            } else if !current.isEmpty {
                out.append(current)
                current = []
            }
        }
        if !current.isEmpty { out.append(current) }
        // A single point still deserves to be seen: a zero-length segment with a round cap is not
        // drawn by every renderer, so widen it by a pixel.
        return out.map { $0.count == 1 ? [$0[0], ($0[0].x + 1, $0[0].y)] : $0 }
    }

    static func shorten(_ s: String, to n: Int) -> String {
        s.count <= n ? s : String(s.prefix(n - 1)) + "…"
    }
}
