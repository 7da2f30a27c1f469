import Foundation
import TunedRPC

extension Render {
    /// `tunectl batchsize`: the measured points, the fit, and the noise scale.
    public static func batchSize(_ r: BatchSizeReport) -> String {
        var out = "task \(r.taskID): steps to \(metricTarget(r.targetLoss)) by batch size\n\n"
        var t = TextTable(columns: [
            .init("BATCH", .right), .init("STEPS", .right), .init("EXAMPLES", .right), .init("FINAL LOSS", .right),
            .init("NOISE SCALE", .right),
        ])
        for p in r.points {
            t.append([
                String(p.batchSize), p.steps.map { String(format: "%.1f", $0) } ?? "not reached",
                p.steps.map { String(format: "%.0f", $0 * Double(p.batchSize)) } ?? "-", p.finalLoss.map(fmt) ?? "-",
                p.noiseScale.map(fmt) ?? "-",
            ])
        }
        out += t.render() + "\n"
        if let b = r.criticalBatchSize, let s = r.minimumSteps, let e = r.minimumExamples {
            out += "fit S = S_min(1 + B_crit/B), E = E_min(1 + B/B_crit)   (McCandlish et al. 2018)\n"
            out += "  B_crit \(fmt(b.value))  95% [\(fmt(b.low)), \(fmt(b.high))]\n"
            out += "  S_min  \(fmt(s.value))  95% [\(fmt(s.low)), \(fmt(s.high))]\n"
            out += "  E_min  \(fmt(e.value))  95% [\(fmt(e.low)), \(fmt(e.high))]\n"
            if let r2 = r.rSquared { out += "  R² (log S) \(String(format: "%.4f", r2))\n" }
        }
        if let n = r.note { out += n + "\n" }
        return out
    }

    static func metricTarget(_ x: Double) -> String { "val_loss ≤ \(fmt(x))" }

    /// `tunectl batchsize --out FILE.svg`: steps to target against batch size on log–log
    /// axes (an ``SVGPlot``, as `tunectl plot` draws): the measured points as dots, the fitted
    /// curve S_min(1 + B_crit/B) as a line, and B_crit marked where S = 2·S_min.
    public static func batchSizeSVG(_ r: BatchSizeReport) -> String {
        let pts = r.points.compactMap { p in p.steps.map { (x: Double(p.batchSize), y: $0) } }.filter { $0.y > 0 }
        let width = 760.0, height = 440.0
        var doc = SVGDocument(width: width, height: height)
        doc.comment("tuned task \(r.taskID): made by tunectl batchsize")
        guard !pts.isEmpty else {
            doc.text("task \(r.taskID): no batch size reached \(metricTarget(r.targetLoss))", x: 20, y: 40, size: 14)
            return doc.render()
        }
        let fit = r.criticalBatchSize.map(\.value).flatMap { b in r.minimumSteps.map { (b: b, s0: $0.value) } }
        let xs = pts.map(\.x) + (fit.map { [$0.b] } ?? [])
        let ys = pts.map(\.y) + (fit.map { [$0.s0, 2 * $0.s0] } ?? [])
        let xAxis = PlotAxis.log(xs.min()!, max(xs.max()!, 2 * xs.min()!))
        var plot = SVGPlot(
            title: "Task \(r.taskID): steps to \(metricTarget(r.targetLoss))", xLabel: "batch size B",
            yLabel: "steps to target S", xAxis: xAxis, yAxis: .log(ys.min()!, max(ys.max()!, 2 * ys.min()!)))
        if let fit {
            let (lo, hi) = (log10(xAxis.lower), log10(xAxis.upper))
            let curve = (0...100).map { i -> (x: Double, y: Double) in
                let b = pow(10, lo + (hi - lo) * Double(i) / 100)
                return (b, fit.s0 * (1 + fit.b / b))
            }
            plot.series.append(.init("fit S_min(1 + B_crit/B)", points: curve, color: "#1f77b4", width: 2))
            plot.verticalLines = [fit.b]
            plot.markers = [.init(x: fit.b, y: 2 * fit.s0, caption: "B_crit = \(fmt(fit.b))")]
            plot.markerLabel = "B_crit (S = 2·S_min)"
        }
        plot.scatter.append(
            .init("measured", points: pts.map { ($0.x, $0.y, "B = \(Int($0.x)): \(fmt($0.y)) steps") }, color: "#d62728"))
        plot.draw(into: &doc, x: 0, y: 0, width: width, height: height, id: "batchsize")
        return doc.render()
    }
}
