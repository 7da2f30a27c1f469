import Foundation
import Testing
import TunedRPC

/// A small PBT history built by hand: four members, three exploits. Trial 4 wins; its weights
/// came from trial 3 (exploit at step 300), whose weights came from trial 1 (step 100).
/// Trial 2's copy of trial 1 (step 200) is not on the winning lineage.
enum LineageSamples {
    static func edge(
        _ step: Int64, _ generation: Int64, _ recipient: TrialID, _ donor: TrialID, _ before: RPCValue,
        _ after: RPCValue, changed: [String], how: String? = nil
    ) -> LineageEdge {
        var changes: [String: RPCValue] = [:]
        if let how { changes["lr"] = ["how": .string(how)] }
        return LineageEdge(
            step: step, at: 1_764_412_800 + Double(step), trialID: recipient, donorTrialID: donor, donorStep: step,
            configBefore: before, configAfter: after, changed: changed,
            optimizerReset: before["optimizer"] != after["optimizer"], generation: generation,
            changes: .object(changes))
    }

    static let lineage = TaskLineage(
        taskID: 7,
        edges: [
            edge(
                100, 1, 3, 1, ["optimizer": "adamw", "lr": 0.5], ["optimizer": "adamw", "lr": 0.012], changed: ["lr"],
                how: "perturb x1.2"),
            edge(
                200, 1, 2, 1, ["optimizer": "lion", "lr": 0.3], ["optimizer": "adamw", "lr": 0.008],
                changed: ["optimizer", "lr"]),
            edge(
                300, 2, 4, 3, ["optimizer": "sgd", "lr": 0.2], ["optimizer": "lion", "lr": 0.0001],
                changed: ["optimizer", "lr"]),
        ])

    /// val_loss and lr every 100 steps up to 400; lr reported only by trials 1 and 3.
    static let curves: TaskCurves = {
        func series(_ name: String, _ values: [Double]) -> MetricSeries {
            MetricSeries(name: name, steps: values.indices.map { Int64($0 + 1) * 100 }, values: values)
        }
        let configs: [TrialID: RPCValue] = [
            1: ["optimizer": "adamw", "lr": 0.01], 2: ["optimizer": "adamw", "lr": 0.008],
            3: ["optimizer": "adamw", "lr": 0.012], 4: ["optimizer": "lion", "lr": 0.0001],
        ]
        let losses: [TrialID: [Double]] = [
            1: [1.2, 0.6, 0.35, 0.3], 2: [2.0, 1.5, 0.5, 0.28], 3: [1.9, 0.55, 0.3, 0.2], 4: [2.2, 2.1, 0.3, 0.09],
        ]
        let trials = (1...4).map { (id: TrialID) -> TrialCurves in
            var s = [series("val_loss", losses[id]!)]
            if id == 1 { s.append(series("lr", [0.01, 0.01, 0.009, 0.009])) }
            if id == 3 { s.append(series("lr", [0.5, 0.012, 0.013, 0.014])) }
            return TrialCurves(
                trialID: id, member: Int(id) - 1, status: .completed, config: configs[id]!, series: s)
        }
        return TaskCurves(
            taskID: 7, name: "digits-pbt", objective: Objective(metric: "val_loss", mode: .min),
            best: BestMetric(value: 0.09, trialID: 4, step: 400), trials: trials)
    }()
}

/// Rasterises SVG text with Debian's rsvg-convert (librsvg), the way a person's viewer would.
enum Rasteriser {
    struct Outcome {
        var status: Int32
        var png: Data
        var stderr: String
    }

    static let path = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Converts `svgFile` to a PNG beside it; `png` is empty when the conversion failed.
    static func convert(_ svgFile: String) throws -> Outcome {
        let exe = try #require(path, "rsvg-convert is missing: run scripts/setup.sh (Debian package librsvg2-bin)")
        let pngFile = svgFile + ".png"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["--format", "png", "--output", pngFile, svgFile]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let png = (try? Data(contentsOf: URL(fileURLWithPath: pngFile))) ?? Data()
        return Outcome(status: p.terminationStatus, png: png, stderr: String(decoding: e, as: UTF8.self))
    }

    /// PNG's eight-byte signature.
    static func isPNG(_ data: Data) -> Bool {
        data.count > 8 && Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    }

    /// Width and height from the IHDR chunk.
    static func size(_ data: Data) -> (Int, Int)? {
        guard isPNG(data), data.count >= 24 else { return nil }
        let b = Array(data)
        func u32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
        return (u32(16), u32(20))
    }
}
