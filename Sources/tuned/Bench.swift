import ArgumentParser

extension Tuned {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Benchmarks (not yet wired).")
        func run() async throws { throw ValidationError("tuned bench is not available yet") }
    }
}
