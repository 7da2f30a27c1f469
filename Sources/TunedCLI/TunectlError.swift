import Foundation
import TunedRPC

/// A problem `tunectl` reports as one line saying what to fix (`description`), with the exit
/// status it maps to. Client errors (`RPCClientError`) already read that way and pass through.
public struct TunectlError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    /// True for a mistake in the command line (exit status 2).
    public let isUsage: Bool

    public init(_ description: String, isUsage: Bool = false) {
        self.description = description
        self.isUsage = isUsage
    }

    /// The one line to print for any error: its own description when it has one a person
    /// can act on, else a generic sentence with the error's text flattened onto one line.
    public static func message(for error: any Error) -> String {
        let text: String
        switch error {
        case let e as TunectlError: text = e.description
        case let e as RPCClientError: text = e.description
        case let e as RPCError: text = e.message
        case let e as CustomStringConvertible: text = e.description
        default: text = String(describing: error)
        }
        return oneLine(text)
    }

    /// What tunectl prints for `error` on stderr: `Error: ` and its one line; a file that does
    /// not validate prints every problem, one per line (`FILE:LINE: field: what to fix`).
    public static func report(for error: any Error) -> String {
        let remote = (error as? RPCClientError)?.remoteError ?? (error as? RPCError)
        if let problems = remote?.validationProblems, problems.count > 1 {
            let files = Set(problems.map(\.file))
            let header = "Error: \(files.count == 1 ? files.first! : "the files") \(files.count == 1 ? "has" : "have") \(problems.count) problems:"
            return ([header] + problems.map { oneLine($0.text) }).joined(separator: "\n") + "\n"
        }
        return "Error: " + message(for: error) + "\n"
    }

    /// Newlines and runs of whitespace become single spaces, so a message is one line.
    public static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}
