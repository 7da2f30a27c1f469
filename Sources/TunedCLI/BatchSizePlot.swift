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

    /// Tick values for a log axis over [10^lo, 10^hi]: the powers of ten inside, or 1-2-5 steps
    /// when the range spans less than a decade.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let decades = stride(from: ceil(lo), through: floor(hi), by: 1).map { pow(10, $0) }
        if decades.count >= 2 { return decades }
        var out: [Double] = []
        for e in stride(from: floor(lo), through: ceil(hi), by: 1) {
            for m in [1.0, 2, 5] where log10(m) + e >= lo && log10(m) + e <= hi { out.append(m * pow(10, e)) }
        }
        return out
    }

    static func metricTarget(_ x: Double) -> String { "val_loss ≤ \(fmt(x))" }

    /// A dependency-free SVG: steps to target against batch size on log–log axes, the measured
    /// points as dots and the fitted curve S_min(1 + B_crit/B) as a line, B_crit marked.
    public static func batchSizeSVG(_ r: BatchSizeReport) -> String {
        let pts = r.points.compactMap { p in p.steps.map { (Double(p.batchSize), $0) } }.filter { $0.1 > 0 }
        let w = 640.0, h = 420.0, left = 70.0, right = 20.0, top = 30.0, bottom = 50.0
        let bs = pts.map(\.0) + [r.criticalBatchSize?.value].compactMap { $0 }
        var ss = pts.map(\.1)
        if let s = r.minimumSteps?.value { ss.append(s) }
        guard let bMin = bs.min(), let bMax = bs.max(), let sMin = ss.min(), let sMax = ss.max() else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"60\"><text x=\"10\" y=\"30\">no points reached the target</text></svg>\n"
        }
        let lx0 = log10(bMin) - 0.1, lx1 = log10(max(bMax, bMin * 2)) + 0.1
        let ly0 = log10(sMin) - 0.1, ly1 = log10(max(sMax, sMin * 2)) + 0.1
        func x(_ b: Double) -> Double { left + (log10(b) - lx0) / (lx1 - lx0) * (w - left - right) }
        func y(_ s: Double) -> Double { h - bottom - (log10(s) - ly0) / (ly1 - ly0) * (h - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(f(w / 2))\" y=\"18\" text-anchor=\"middle\">task \(r.taskID): steps to \(metricTarget(r.targetLoss))</text>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(h - bottom))\" x2=\"\(f(w - right))\" y2=\"\(f(h - bottom))\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(h - bottom))\" stroke=\"black\"/>\n"
        for v in ticks(lx0, lx1) {
            svg += "<text x=\"\(f(x(v)))\" y=\"\(f(h - bottom + 16))\" text-anchor=\"middle\">\(fmt(v))</text>\n"
        }
        for v in ticks(ly0, ly1) {
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(fmt(v))</text>\n"
        }
        svg += "<text x=\"\(f(w / 2))\" y=\"\(f(h - 10))\" text-anchor=\"middle\">batch size B</text>\n"
        svg += "<text x=\"16\" y=\"\(f(h / 2))\" transform=\"rotate(-90 16 \(f(h / 2)))\" text-anchor=\"middle\">steps to target S</text>\n"
        if let b = r.criticalBatchSize?.value, let s0 = r.minimumSteps?.value {
            let curve = (0...100).map { i -> String in
                let bb = pow(10, lx0 + (lx1 - lx0) * Double(i) / 100)
                return "\(f(x(bb))),\(f(y(s0 * (1 + b / bb))))"
            }
            svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(curve.joined(separator: " "))\"/>\n"
            svg += "<line x1=\"\(f(x(b)))\" y1=\"\(f(top))\" x2=\"\(f(x(b)))\" y2=\"\(f(h - bottom))\" stroke=\"#888\" stroke-dasharray=\"4 4\"/>\n"
            svg += "<text x=\"\(f(x(b) + 4))\" y=\"\(f(top + 12))\">B_crit = \(fmt(b))</text>\n"
        }
        for (b, s) in pts {
            svg += "<circle cx=\"\(f(x(b)))\" cy=\"\(f(y(s)))\" r=\"4\" fill=\"#d62728\"><title>B = \(Int(b)): \(fmt(s)) steps</title></circle>\n"
        }
        return svg + "</svg>\n"
    }
}
