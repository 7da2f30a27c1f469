import ArgumentParser

extension Tuned {
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train one built-in workload (not yet wired).")
        func run() async throws { throw ValidationError("tuned train is not available yet") }
    }
}
