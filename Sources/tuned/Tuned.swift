import ArgumentParser
import TunedRPC

@main
struct Tuned: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tuned",
        abstract: "Hyperparameter auto-tuning daemon: PBT with hypergradient descent, reference-exact optimizers.",
        discussion: """
            `tuned serve` (the default) is the daemon that systemd runs: it listens on a Unix socket \
            for `tunectl`, keeps every task in a SQLite store and trains through supervised `tuned worker` \
            processes. `tuned check-config FILE` validates a daemon configuration; `tuned train` trains \
            one configuration of a built-in workload and prints its metrics as JSON; `tuned conformance \
            DIR` checks the optimizers against reference vectors; `tuned bench` measures training, \
            optimizer and daemon speed.
            """,
        version: TunedVersion.string,
        subcommands: [Serve.self, CheckConfig.self, Worker.self, Conformance.self, Train.self, Bench.self],
        defaultSubcommand: Serve.self
    )
}
