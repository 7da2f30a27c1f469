import ArgumentParser
import TunedCLI
import TunedRPC

extension Tunectl {
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a task's curves and its winning lineage as an SVG picture.",
            discussion: """
                The picture has two charts. Top: the objective (e.g. val_loss) of every member over training \
                steps, the best value so far in bold black, and a red triangle where an exploit copied a donor. \
                Bottom: the hyperparameter schedule of the winning lineage — the best member's weights traced \
                back through the exploits that copied them — with each exploit marked "← trial N" (its donor). \
                The schedule comes from the reported series (the lr metric follows schedules and hypergradient \
                descent) or, where there is none, from the configuration. Any SVG viewer or browser opens the file.

                Examples:
                  tunectl plot 7 --out task7.svg
                  tunectl plot 7 --out task7.svg --hyperparameter weight_decay
                  tunectl plot 7 --out task7.svg && rsvg-convert task7.svg -o task7.png
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        @Option(name: .long, help: ArgumentHelp("The SVG file to write (replaced if it exists).", valueName: "file.svg"))
        var out: String

        @Option(help: ArgumentHelp("The hyperparameter of the lineage chart.", valueName: "key"))
        var hyperparameter = "lr"

        @Option(help: ArgumentHelp("At most this many points per curve (the daemon thins longer ones).", valueName: "n"))
        var maxPoints = TaskCurvesParams.defaultMaxPoints

        func validate() throws {
            guard out.lowercased().hasSuffix(".svg") else {
                throw ValidationError("--out must name an .svg file, like task7.svg (got \"\(out)\")")
            }
            guard TaskCurvesParams.maxPointsRange.contains(maxPoints) else {
                let r = TaskCurvesParams.maxPointsRange
                throw ValidationError("--max-points must be between \(r.lowerBound) and \(r.upperBound), got \(maxPoints)")
            }
            guard !hyperparameter.isEmpty else { throw ValidationError("--hyperparameter needs a key, like lr") }
        }

        func run() throws {
            let session = try global.connect()
            let curves = try session.call(
                RPCMethods.TaskCurves.self, TaskCurvesParams(taskID: target.task, maxPoints: maxPoints))
            let lineage = try session.call(RPCMethods.TaskLineage.self, TaskIDParams(taskID: target.task))
            let strategy = try session.call(RPCMethods.TaskGet.self, TaskIDParams(taskID: target.task)).strategy
            try OutputFile.write(
                TaskPlot.svg(curves: curves, lineage: lineage, hyperparameter: hyperparameter, strategy: strategy), to: out)
            let members = curves.trials.count
            let exploits = lineage.edges.count
            if global.json {
                emitJSON(["out": .string(out), "members": .int(Int64(members)), "exploits": .int(Int64(exploits))])
            } else {
                emit("wrote \(out): \(members) member\(members == 1 ? "" : "s"), \(exploits) exploit\(exploits == 1 ? "" : "s")\n")
            }
        }
    }
}
