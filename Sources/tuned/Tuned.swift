import ArgumentParser

@main
struct Tuned: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tuned",
        abstract: "Hyperparameter auto-tuning daemon: PBT with hypergradient descent, reference-exact optimizers.",
        discussion: """
            Subcommands run the pieces that exist today. `tuned conformance DIR` checks the optimizers \
            against reference vectors; `tuned train` trains one built-in workload; `tuned bench` measures \
            training and optimizer speed.
            """,
        subcommands: [Serve.self, CheckConfig.self, Worker.self, Conformance.self, Train.self, Bench.self],
        defaultSubcommand: Serve.self
    )
}
