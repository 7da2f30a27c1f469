import ArgumentParser
import Foundation
import TunedCLI
import TunedRPC

extension Tunectl {
    struct BatchSize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "batchsize",
            abstract: "Show a batch-sweep task's steps to target per batch size and the critical batch size.",
            discussion: """
                For a task with [strategy] kind = "batch-sweep": the steps S each batch size needed to \
                reach target_loss, the fit S = S_min(1 + B_crit/B), E = E_min(1 + B/B_crit) with 95% \
                intervals (McCandlish et al. 2018), and the noise scale a run reported. --out draws \
                the points and the fitted curve as an SVG.

                Examples:
                  tunectl batchsize 7
                  tunectl batchsize 7 --out sweep.svg
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        @Option(help: ArgumentHelp("Also write a log–log plot of S(B) to this SVG file.", valueName: "file.svg"))
        var out: String?

        func run() throws {
            let session = try global.connect()
            let raw = try session.raw(RPCMethods.TaskBatchSize.self, TaskIDParams(taskID: target.task))
            let report = try session.decode(RPCMethods.TaskBatchSize.self, raw)
            if let out {
                do { try Render.batchSizeSVG(report).write(toFile: out, atomically: true, encoding: .utf8) } catch {
                    throw TunectlError("cannot write \(out): \(error.localizedDescription)")
                }
            }
            if global.json { return emitJSON(raw) }
            emit(Render.batchSize(report))
        }
    }
}
