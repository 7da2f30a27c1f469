/// Training steps per second of the digits MLP (64→64→10, batch 64, Float, one thread).
public enum MLPBench {
    public static func run(csv: String, steps: Int) throws -> [BenchResult] {
        []  // wired once the MLP workload lands
    }
}
