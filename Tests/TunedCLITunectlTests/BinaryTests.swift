import Foundation
import Testing
import TunedRPC

/// The daemon's side of the conversations below: canned replies per method.
@Sendable func cannedReplies(_ r: RPCRequest) -> [[UInt8]] {
    switch r.method {
    case RPCMethodName.taskSubmit:
        guard let p = try? r.decodeParams(TaskSubmitParams.self) else {
            return [RPCResponse.error(id: r.id, .invalidParams(field: nil, "bad submit")).encodedLine()]
        }
        if p.text.contains("population = -1") {
            return [
                RPCResponse.error(
                    id: r.id,
                    .validationFailed("must be ≥ 2", file: p.filename, line: 3, field: "strategy.population")
                ).encodedLine()
            ]
        }
        return [RPCResponse.encodedLine(id: r.id, result: TaskSubmitResult(taskID: 42))]
    case RPCMethodName.taskList:
        return [RPCResponse.encodedLine(id: r.id, result: Samples.summaries)]
    case RPCMethodName.taskResults:
        let p = try! r.decodeParams(TaskIDParams.self)
        if p.taskID != 7 { return [RPCResponse.error(id: r.id, .taskNotFound(p.taskID)).encodedLine()] }
        return [RPCResponse.encodedLine(id: r.id, result: Samples.results)]
    case RPCMethodName.taskGet:
        var d = Samples.detail(.failed, error: "worker exited with status 1")
        d.taskID = 42
        return [RPCResponse.encodedLine(id: r.id, result: d)]
    default:
        return [RPCResponse.error(id: r.id, .methodNotFound(r.method)).encodedLine()]
    }
}

@Suite(.serialized) struct TunectlBinaryTests {
    @Test func submitSendsTheFileAndPrintsTheTaskID() throws {
        let dir = TempDir()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/tasks", withIntermediateDirectories: true)
        let text = "name = \"digits\"\n[workload]\nkind = \"mlp\"\n"
        try text.write(toFile: dir.path + "/tasks/digits.toml", atomically: true, encoding: .utf8)
        let daemon = ScriptedDaemon(path: dir.path + "/d.sock", handler: cannedReplies)

        let r = try TunectlBinary.run(["--socket", daemon.path, "submit", "tasks/digits.toml"], in: dir.path)
        #expect(r.status == 0)
        #expect(r.stdout == "42\n")
        #expect(r.stderr.isEmpty)
        #expect(daemon.waitUntilDone())
        let request = try #require(daemon.requests.first)
        #expect(request.method == "task.submit")
        let p = try request.decodeParams(TaskSubmitParams.self)
        #expect(p.text == text && p.format == .toml && p.filename == "digits.toml")
        #expect(p.baseDir.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
            == URL(fileURLWithPath: dir.path + "/tasks").resolvingSymlinksInPath().path)
    }

    @Test func submitWaitExitsOneWhenTheTaskFails() throws {
        let dir = TempDir()
        defer { dir.remove() }
        try "{\"name\": \"x\"}".write(toFile: dir.path + "/x.json", atomically: true, encoding: .utf8)
        let daemon = ScriptedDaemon(path: dir.path + "/d.sock", handler: cannedReplies)
        let r = try TunectlBinary.run(["submit", dir.path + "/x.json", "--wait"], environment: ["TUNED_SOCKET": daemon.path])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "42")
        #expect(lines.last?.hasPrefix("task 42 failed: best val_loss 0.0712") == true)
        #expect(lines.last?.contains("worker exited with status 1") == true)
        #expect(daemon.waitUntilDone())
        // A failed task: its first failure is asked for (`trial.logs`); a daemon without the
        // method gets no more lines.
        #expect(daemon.requests.map(\.method) == ["task.submit", "task.get", "trial.logs"])
        #expect(try daemon.requests[0].decodeParams(TaskSubmitParams.self).format == .json)
    }

    @Test func listPrintsATableAndJSONPrintsTheRawResult() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let daemon = ScriptedDaemon(path: dir.path + "/d.sock", connections: 2, handler: cannedReplies)
        let text = try TunectlBinary.run(["list", "--socket", daemon.path])
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count == 4 && lines[0].hasPrefix("ID  NAME"))
        #expect(lines[2].contains("digits-random") && lines[2].contains("running"))

        let json = try TunectlBinary.run(["--json", "--socket", daemon.path, "list"])
        #expect(json.status == 0)
        let value = try RPCValue.parse(Array(json.stdout.utf8.dropLast()), maxDepth: 16)
        #expect(try RPCCoding.decode([TaskSummary].self, from: value) == Samples.summaries)
        #expect(daemon.waitUntilDone())
    }

    @Test func resultsPrintBestConfigAndTrials() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let daemon = ScriptedDaemon(path: dir.path + "/d.sock", handler: cannedReplies)
        let r = try TunectlBinary.run(["--socket", daemon.path, "results", "7"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("best: val_loss 0.0688 (trial 2, step 4000)"))
        #expect(r.stdout.contains("optimizer:  adamw"))
        #expect(r.stdout.contains("TRIAL  MEMBER  STATUS"))
        #expect(daemon.waitUntilDone())
    }

    @Test func anRPCErrorIsOneLineAndExitOne() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let daemon = ScriptedDaemon(path: dir.path + "/d.sock", connections: 2, handler: cannedReplies)
        let r = try TunectlBinary.run(["--socket", daemon.path, "results", "9"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "Error: no task 9 (see `tunectl list`)\n")

        try "population = -1\n".write(toFile: dir.path + "/bad.toml", atomically: true, encoding: .utf8)
        let v = try TunectlBinary.run(["--socket", daemon.path, "submit", dir.path + "/bad.toml"])
        #expect(v.status == 1)
        #expect(v.stderr == "Error: bad.toml:3: strategy.population: must be ≥ 2\n")
        #expect(daemon.waitUntilDone())
    }

    @Test func noDaemonSaysHowToStartOne() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/missing.sock"
        let r = try TunectlBinary.run(["list"], environment: ["TUNED_SOCKET": path])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines[0].contains("no tuned daemon at \(path)"))
        #expect(lines[0].contains("tuned --socket"))
        #expect(lines[0].contains("TUNED_SOCKET"))
    }

    @Test(arguments: [
        ["export", "7", "--format", "xml"], ["submit", "task.yaml"], ["status", "0"], ["frobnicate"], ["results"],
    ])
    func usageMistakesExitTwo(arguments: [String]) throws {
        let r = try TunectlBinary.run(["--socket", "/nonexistent/x.sock"] + arguments)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("Error: "))
    }

    @Test func helpExplainsWithExamplesAndExitsZero() throws {
        let r = try TunectlBinary.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Examples:") && r.stdout.contains("tunectl submit"))
        #expect(r.stdout.contains("TUNED_SOCKET"))
    }
}

/// A daemon whose task 7 reports two progress notifications after `task.watch`, then
/// finishes with `finalStatus`; `task.get` gives the final detail. With `watchable: false`
/// it predates `task.watch`, and `task.get` reports running once, then the final status.
func watchReplies(finalStatus: TaskStatus, watchable: Bool) -> @Sendable (RPCRequest) -> [[UInt8]] {
    let gets = Counter()
    return { r in
        switch r.method {
        case RPCMethodName.taskWatch where watchable:
            var lines = [RPCResponse.encodedLine(id: r.id, result: Samples.detail(.running))]
            for step in [16000, 32000] as [Int64] {
                let p = TaskProgress(
                    taskID: 7, status: .running, stepsDone: step, stepsTotal: 32000, etaSeconds: 5, members: [], at: 1)
                lines.append(try! RPCNotification.encodedLine(method: RPCMethodName.taskProgress, params: p))
            }
            lines.append(
                try! RPCNotification.encodedLine(
                    method: RPCMethodName.taskFinished,
                    params: TaskFinished(taskID: 7, status: finalStatus, finishedAt: 2)))
            return lines
        case RPCMethodName.taskGet:
            let n = gets.next()
            var d = Samples.detail(n == 0 && !watchable ? .running : finalStatus)
            if d.status.isFinal { d.stepsDone = d.stepsTotal }
            return [RPCResponse.encodedLine(id: r.id, result: d)]
        default:
            return [RPCResponse.error(id: r.id, .methodNotFound(r.method)).encodedLine()]
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.withLock { defer { n += 1 }; return n } }
}

@Suite(.serialized) struct TunectlWatchTests {
    @Test func watchPrintsOneLinePerUpdateWhenPipedAndEndsWithTheTask() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let daemon = ScriptedDaemon(
            path: dir.path + "/d.sock", handler: watchReplies(finalStatus: .completed, watchable: true))
        let r = try TunectlBinary.run(["--socket", daemon.path, "watch", "7"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].contains("running 9600/32000 (30%)") && lines[0].contains("eta 42s"))
        #expect(lines[1].contains("16000/32000 (50%)") && lines[1].contains("eta 5s"))
        #expect(lines[3].hasPrefix("task 7 digits-random: completed 32000/32000 (100%)"))
        #expect(!r.stdout.contains("\u{1B}"))
        #expect(daemon.waitUntilDone())
    }

    @Test func watchPollsAnOlderDaemonAndExitsOneWhenTheTaskFails() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let daemon = ScriptedDaemon(
            path: dir.path + "/d.sock", handler: watchReplies(finalStatus: .failed, watchable: false))
        let r = try TunectlBinary.run(["--socket", daemon.path, "watch", "7", "--interval", "0.05"])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("running") == true)
        #expect(lines.last?.contains("failed") == true)
        #expect(daemon.waitUntilDone())
        #expect(daemon.requests.map(\.method) == ["task.watch", "task.get", "task.get", "trial.logs"])
    }
}
