import Foundation
import Testing
@testable import TunedWorkloads

struct CSVErrorCase: Sendable, CustomStringConvertible {
    var file: String
    var task: TaskType?
    /// Every one of these must appear in the message.
    var mentions: [String]
    var description: String { file }
}

@Suite struct CSVTests {
    static let errorCases: [CSVErrorCase] = [
        CSVErrorCase(file: "csv/does_not_exist.csv", task: nil, mentions: ["does_not_exist.csv", "does not exist", "path"]),
        CSVErrorCase(file: "csv/empty.csv", task: nil, mentions: ["empty.csv", "empty", "header"]),
        CSVErrorCase(file: "csv/header_only.csv", task: nil, mentions: ["header_only.csv", "line 1", "no data rows"]),
        CSVErrorCase(file: "csv/ragged.csv", task: nil, mentions: ["ragged.csv", "line 3 has 2 fields", "has 3"]),
        CSVErrorCase(file: "csv/non_numeric.csv", task: nil, mentions: ["non_numeric.csv", "line 3", "column 'b'", "'abc' is not a number"]),
        CSVErrorCase(file: "csv/nan_cell.csv", task: nil, mentions: ["nan_cell.csv", "line 3", "column 'b'", "not a finite number"]),
        CSVErrorCase(file: "csv/inf_cell.csv", task: nil, mentions: ["inf_cell.csv", "line 2", "column 'b'", "not a finite number"]),
        CSVErrorCase(file: "csv/empty_cell.csv", task: nil, mentions: ["empty_cell.csv", "line 4", "column 'b'", "empty"]),
        CSVErrorCase(file: "csv/unclosed_quote.csv", task: nil, mentions: ["unclosed_quote.csv", "line 3", "quoted field"]),
        CSVErrorCase(file: "csv/no_target.csv", task: nil, mentions: ["no_target.csv", "no column 'target'", "columns: a, b, label"]),
        CSVErrorCase(file: "csv/fractional_label.csv", task: .classification, mentions: ["fractional_label.csv", "line 3", "column 'target'", "1.5 is not a class label"]),
        CSVErrorCase(file: "csv/negative_label.csv", task: .classification, mentions: ["negative_label.csv", "line 3", "column 'target'", "-1.0 is not a class label"]),
        CSVErrorCase(file: "csv/single_class.csv", task: nil, mentions: ["single_class.csv", "column 'target'", "at least two classes"]),
    ]

    @Test(arguments: errorCases)
    func badFilesAreRejectedWithFileLineAndColumn(_ c: CSVErrorCase) {
        do {
            let csv = try CSVDataset.load(path: DataFixture.path(c.file))
            _ = try Dataset(csv, options: DatasetOptions(task: c.task))
            Issue.record("\(c.file) was accepted")
        } catch let e as WorkloadError {
            for m in c.mentions { #expect(e.message.contains(m), "\(e.message) should mention \(m)") }
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func crlfQuotedCellsAndTrailingBlankLinesParse() throws {
        let csv = try CSVDataset.load(path: DataFixture.path("csv/crlf_quoted.csv"))
        #expect(csv.featureNames == ["x, y", "b"])
        #expect(csv.rowCount == 2)
        #expect(csv.features == [1.5, 2, 3, 4])
        #expect(csv.targets == [0, 1])
        #expect(csv.lineNumbers == [2, 3])
    }

    @Test func targetColumnCanBeNamedAndSitAnywhere() throws {
        let csv = try CSVDataset(text: "y,a,b\n1,2,3\n0,5,6", source: "t.csv", target: "y")
        #expect(csv.featureNames == ["a", "b"])
        #expect(csv.features == [2, 3, 5, 6])
        #expect(csv.targets == [1, 0])
    }

    @Test func realDatasetsLoadWithTheirShapesAndInferredTasks() {
        let digits = DataFixture.digits, diabetes = DataFixture.diabetes
        #expect(DataFixture.digitsCSV.rowCount == 1797 && DataFixture.digitsCSV.featureCount == 64)
        #expect(digits.task == .classification && digits.classCount == 10)
        #expect(DataFixture.diabetesCSV.rowCount == 442 && DataFixture.diabetesCSV.featureCount == 10)
        // Integer-valued but 214 distinct values: inferred as regression.
        #expect(diabetes.task == .regression && diabetes.outputSize == 1)
    }

    @Test func duplicateColumnNamesAreRejected() {
        #expect(throws: WorkloadError.self) { try CSVDataset(text: "a,a,target\n1,2,0\n", source: "dup.csv") }
    }
}
