import ArgumentParser
import Foundation
import TunedOptim

extension Tuned {
    struct Conformance: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every reference-vector case (*.json) in DIR through tuned's optimizers.",
            discussion: """
                Each case file records a reference optimizer (torch.optim, lion-pytorch, optax) stepping one \
                float64 tensor; tuned replays the same steps and compares every parameter after every step. \
                Prints one line per case (name, max relative error, PASS/FAIL) and then `N passed, F failed`. \
                A case passes at 1e-12 relative (|got − exp| ≤ 1e-12·max(1, |exp|)), or at the absolute \
                tolerance the case states (the bfloat16 Muon cases). Exit status 1 if any case fails.
                """
        )

        @Argument(help: "A folder of case files in the reference-vector format.")
        var dir: String

        @Flag(help: "Print one JSON object per case instead of the table.")
        var json = false

        func run() throws {
            let outcomes: [TunedOptim.Conformance.Outcome]
            do {
                outcomes = try TunedOptim.Conformance.runDirectory(URL(fileURLWithPath: dir))
            } catch {
                throw Failure("\(error)")
            }
            let width = max(20, outcomes.map(\.name.count).max() ?? 0)
            for o in outcomes {
                let verdict = o.passed ? "PASS" : "FAIL"
                if json {
                    let err = o.error.map { ", \"error\": \"\(escape($0))\"" } ?? ""
                    print("{\"case\": \"\(escape(o.name))\", \"max_rel_error\": \(jsonNumber(o.maxRelativeError)), \"result\": \"\(verdict)\"\(err)}")
                } else {
                    var line = o.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    line += "  " + String(format: "%.3e", o.maxRelativeError) + "  " + verdict
                    if let step = o.firstFailingStep { line += "  (first off at step \(step))" }
                    if let e = o.error { line += "  \(e)" }
                    print(line)
                }
            }
            let failed = outcomes.filter { !$0.passed }.count
            print("\(outcomes.count - failed) passed, \(failed) failed")
            if failed > 0 || outcomes.isEmpty {
                if outcomes.isEmpty { FileHandle.standardError.write(Data("no *.json case files in \(dir)\n".utf8)) }
                throw ExitCode(1)
            }
        }

        private func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }

        private func jsonNumber(_ d: Double) -> String { d.isFinite ? "\(d)" : "null" }
    }
}
