import Foundation
@testable import TunedWorkloads

/// Paths of the test fixtures and the real datasets, loaded once.
enum DataFixture {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let digitsCSV: CSVDataset = try! CSVDataset.load(path: path("digits.csv"))
    static let diabetesCSV: CSVDataset = try! CSVDataset.load(path: path("diabetes.csv"))
    static let digits: Dataset = try! Dataset(digitsCSV)
    static let diabetes: Dataset = try! Dataset(diabetesCSV)

    /// A small random table: `rows` × `features` standard-normal features and a target
    /// that is a class in 0..<classes (classes > 0) or a real number (classes == 0).
    static func random(rows: Int, features: Int, classes: Int, seed: UInt64) -> CSVDataset {
        var rng = CounterRNG(key: CounterRNG.key(seed, 77))
        var text = (0..<features).map { "x\($0)" }.joined(separator: ",") + ",target\n"
        for r in 0..<rows {
            let xs = (0..<features).map { _ in String(rng.normal()) }
            let y = classes > 0 ? String(r % classes) : String(rng.normal() * 3 + 1)
            text += xs.joined(separator: ",") + "," + y + "\n"
        }
        return try! CSVDataset(text: text, source: "random.csv")
    }
}
