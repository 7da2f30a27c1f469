import TunedRPC

extension Render {
    /// Under `tunectl trials` and `results`: one line per failed or diverged trial with its
    /// reason, and where to read the rest. Empty when no trial failed.
    public static func failures(_ rows: [TrialRow], taskID: TaskID) -> String {
        let failed = rows.filter { $0.status == .failed || $0.status == .diverged }.sorted { $0.trialID < $1.trialID }
        guard !failed.isEmpty else { return "" }
        var out = "\nfailed trials (stderr and worker lines: tunectl logs \(taskID) TRIAL):\n"
        for t in failed {
            let reason = t.reason ?? t.error.map(TunectlError.oneLine) ?? "no reason recorded"
            out += "  trial \(t.trialID) (member \(t.member)) \(t.status.rawValue): \(reason)\n"
        }
        return out
    }

    /// `tunectl logs TASK [TRIAL]`: each failed attempt with its reason, error, the program's
    /// stderr tail and the worker's lines.
    public static func segmentLogs(_ r: TrialLogs, trialID: TrialID?) -> String {
        if r.logs.isEmpty {
            return trialID.map { "trial \($0) of task \(r.taskID) has no failed segment\n" }
                ?? "task \(r.taskID) has no failed segment\n"
        }
        var out = ""
        for (i, l) in r.logs.enumerated() {
            if i > 0 { out += "\n" }
            out += "trial \(l.trialID) (member \(l.member)), segment \(l.segmentID) (steps \(l.startStep)–\(l.endStep)), "
                + "attempt \(l.attempt)\(l.workerID.map { " on \($0)" } ?? ""), \(Formatting.timestamp(l.at)): \(l.status)\n"
            out += "reason: \(l.reason)\n"
            if TunectlError.oneLine(l.error) != l.reason { out += "error:  \(TunectlError.oneLine(l.error))\n" }
            out += block("stderr (last lines)", l.stderrTail, none: "(the program wrote nothing to stderr, or this is not a command workload)")
            out += block("worker lines", l.workerLog, none: "(none)")
        }
        return out
    }

    /// What `submit --wait` and `watch` print after a failed task: its first failure's reason
    /// and the last `lines` lines of that segment's stderr.
    public static func firstFailure(_ l: SegmentLog, taskID: TaskID, lines: Int = 10) -> String {
        var out = "first failure: trial \(l.trialID) (member \(l.member)), segment \(l.segmentID) "
            + "(steps \(l.startStep)–\(l.endStep)), \(l.status): \(l.reason)\n"
        if let tail = l.stderrTail {
            let all = tail.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let kept = Array((all.last == "" ? all.dropLast() : all[...]).suffix(lines))
            if !kept.isEmpty {
                out += "last lines of its stderr:\n" + kept.map { "  " + $0 + "\n" }.joined()
            }
        }
        out += "all of it: tunectl logs \(taskID) \(l.trialID)\n"
        return out
    }

    private static func block(_ title: String, _ text: String?, none: String) -> String {
        guard let text, !text.allSatisfy(\.isWhitespace) else { return "\(title): \(none)\n" }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return "\(title):\n" + lines.map { "  " + $0 + "\n" }.joined()
    }
}
