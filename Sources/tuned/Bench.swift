import ArgumentParser
import Foundation
import TunedBench

extension Tuned {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure training and optimizer speed; print a table and write JSON.",
            discussion: """
                Groups: `mlp` (digits MLP 64→64→10, batch 64, training steps per second per optimizer), \
                `optimizer` (one update of 1M Float parameters per optimizer, beside the time to stream \
                the same arrays through memory), `gemm` (sgemm/dgemm GFLOP/s), and — only when asked — `daemon` \
                (a real `tuned serve` child: daemon.status latency with 1 and 64 clients, worker.report ingest \
                rate, and the wall time of a random search through the daemon against `tuned train` of the same \
                configurations). Run a release build with \
                OPENBLAS_NUM_THREADS=1, as scripts/bench.sh does; figures are best-of-5 wall time.
                """
        )

        @Option(help: "Groups to run, comma-separated: mlp, optimizer, gemm, daemon.")
        var groups = "mlp,optimizer,gemm"

        @Option(help: "Write the results and the machine's context as JSON to this file.")
        var json: String?

        @Option(help: "Path of digits.csv for the mlp group.")
        var digits = "datasets/digits.csv"

        @Option(help: "Training steps per measurement in the mlp group.")
        var steps = 5000

        func run() throws {
            let wanted = Set(groups.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = wanted.subtracting(["mlp", "optimizer", "gemm", "daemon"])
            guard unknown.isEmpty else {
                throw ValidationError("unknown group(s) \(unknown.sorted().joined(separator: ", ")); use mlp, optimizer, gemm, daemon")
            }
            var rows: [BenchResult] = []
            if wanted.contains("mlp") {
                do { rows += try MLPBench.run(csv: digits, steps: steps) } catch {
                    throw Failure("mlp benchmark: \(error)")
                }
                print(BenchReport.table(rows.filter { $0.group.hasPrefix("mlp") }), terminator: "")
            }
            if wanted.contains("optimizer") {
                let r = OptimizerBench.run()
                rows += r
                print(BenchReport.table(r), terminator: "")
            }
            if wanted.contains("gemm") {
                let r = GemmBench.run()
                rows += r
                print(BenchReport.table(r), terminator: "")
            }
            if wanted.contains("daemon") {
                let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
                let r: [BenchResult]
                do {
                    r = try DaemonBench.run(.init(executable: URL(fileURLWithPath: exe), digits: digits)) { print("… \($0)") }
                } catch {
                    throw Failure("daemon benchmark: \(error)")
                }
                rows += r
                print(BenchReport.table(r), terminator: "")
            }
            print("\nmachine: " + BenchReport.machine().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "  "))
            if let json {
                try BenchReport.json(rows).write(to: URL(fileURLWithPath: json))
                print("wrote \(json)")
            }
        }
    }
}
