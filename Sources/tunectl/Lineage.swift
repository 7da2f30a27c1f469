import ArgumentParser
import TunedCLI
import TunedRPC

extension Tunectl {
    struct Lineage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a task's lineage: which member copied which, at what step, and what explore changed.",
            discussion: """
                Population-based training (PBT) periodically replaces a weak member by a copy of a strong one \
                (exploit: its weights and configuration) and then perturbs or resamples hyperparameters \
                (explore). Each row is one exploit: the step, the generation it started, recipient ← donor, the \
                donor's step, whether the optimizer changed (its state is then re-initialised), and every changed \
                key as old→new. Tasks of other strategies (random, grid) have no lineage.

                Examples:
                  tunectl lineage 7
                  tunectl --json lineage 7 | jq '.edges[] | select(.changed | index("lr"))'
                """
        )

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TaskArgument

        func run() throws {
            let session = try global.connect()
            let raw = try session.raw(RPCMethods.TaskLineage.self, TaskIDParams(taskID: target.task))
            if global.json { return emitJSON(raw) }
            emit(Render.lineage(try session.decode(RPCMethods.TaskLineage.self, raw)))
        }
    }
}
