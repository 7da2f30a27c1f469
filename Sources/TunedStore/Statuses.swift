import GRDB

// The TEXT values of the status columns; the schema's CHECK constraints list the same.

public enum TaskStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case queued, running, succeeded, failed, cancelled
    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

public enum TrialStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case pending, running, paused, succeeded, failed, diverged, stopped, pruned
    /// A terminal trial gets no more segments.
    public var isTerminal: Bool {
        switch self {
        case .pending, .running, .paused: false
        case .succeeded, .failed, .diverged, .stopped, .pruned: true
        }
    }
}

public enum SegmentStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case queued, leased, done, failed
}

public enum SpecFormat: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case toml, json
}

public enum ObjectiveMode: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case min, max

    /// True when `a` is strictly better than `b`; NaN is never better, anything beats NaN.
    public func isBetter(_ a: Double, than b: Double) -> Bool {
        if a.isNaN { return false }
        if b.isNaN { return true }
        return self == .min ? a < b : a > b
    }
}

/// What a task optimises: one metric name and a direction.
public struct Objective: Hashable, Sendable, Codable {
    public var metric: String
    public var mode: ObjectiveMode
    public init(metric: String, mode: ObjectiveMode) {
        self.metric = metric
        self.mode = mode
    }
}
