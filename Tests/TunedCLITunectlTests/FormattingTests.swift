import Foundation
import Testing
import TunedCLI
import TunedRPC

@Suite struct TunectlTableTests {
    /// recommend's "why" table: a configuration a person can read in one line.
    @Test func compactConfigsRoundToThreeDigitsAndNameNestedTablesByKind() {
        let c: RPCValue = .object([
            "optimizer": .string("momentum"), "lr": .double(0.21604711648480038), "batch_size": .int(64),
            "schedule": .object(["kind": .string("warmup_cosine"), "total_steps": .int(600)]), "nesterov": .bool(true),
            "weight_decay": .double(0.00015774966976384448),
        ])
        #expect(Formatting.compactConfig(c)
            == "optimizer=momentum batch_size=64 lr=0.216 nesterov=true schedule=warmup_cosine weight_decay=0.000158")
    }

    @Test func tableColumnsAreAsWideAsTheWidestCellAndNumbersAlignRight() {
        var table = TextTable(columns: [.init("ID", .right), .init("NAME")])
        table.append(["7", "digits"])
        table.append(["123", "x"])
        #expect(table.lines() == [" ID  NAME", "---  ------", "  7  digits", "123  x"])
    }

    @Test func taskListShowsOneRowPerTaskWithStepsAndBest() {
        let lines = Render.taskList(Samples.summaries).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("ID  NAME"))
        #expect(lines[2].contains("digits-random") && lines[2].contains("9600/32000 (30%)") && lines[2].contains("0.0712"))
        #expect(lines[3].contains("failed") && lines[3].contains(" - "))
        #expect(Render.taskList([]).contains("tunectl submit"))
    }

    @Test func resultsShowBestConfigMetricsAndTrialsBestFirst() {
        let text = Render.results(Samples.results)
        #expect(text.contains("best: val_loss 0.0688 (trial 2, step 4000)"))
        #expect(text.contains("  optimizer:  adamw"))
        #expect(text.contains("  batch_size: 64"))
        #expect(text.contains("  train_loss: 0.041"))
        let rows = text.split(separator: "\n").map(String.init)
            .filter { ($0.contains("completed") || $0.contains("diverged")) && !$0.hasPrefix("task") }
        // Ranked by best_metric for a `min` objective; the diverged trial (no best) last.
        #expect(rows.map { $0.split(separator: " ").first.map(String.init) } == ["2", "1", "3"])
        #expect(rows[2].contains("NaN"))
    }

    @Test func rankingFollowsTheObjectiveMode() {
        #expect(Render.ranked(Samples.trials, mode: .max).map(\.trialID) == [1, 2, 3])
        #expect(Render.ranked(Samples.trials, mode: .min).map(\.trialID) == [2, 1, 3])
    }

    @Test func statusDetailListsFieldsAndMembers() {
        let text = Render.taskDetail(Samples.detail(.running))
        #expect(text.hasPrefix("task 7 digits-random: running\n"))
        #expect(text.contains("eta:       42s"))
        #expect(text.contains("w1") && text.contains("optimizer=adamw lr=0.001"))
        let failed = Render.taskDetail(Samples.detail(.failed, error: "worker exited\nwith status 1"))
        #expect(failed.contains("error:     worker exited with status 1"))
        #expect(!failed.contains("eta:"))
    }

    @Test(arguments: [
        (0.0688, "0.0688"), (1.23456e-5, "1.235e-05"), (Double.nan, "NaN"), (-Double.infinity, "-inf"), (42.0, "42"),
    ])
    func metricsPrintWithFourSignificantDigits(value: Double, expected: String) {
        #expect(Formatting.metric(value) == expected)
    }

    /// Issue 12: tables print configurations to 4 significant digits; `--json` and the
    /// export keep every digit.
    @Test func tablesPrintConfigurationsToFourSignificantDigitsAndJSONKeepsEveryDigit() throws {
        let lr = 0.0031622776601683794, wd = 1.2345678e-5
        var row = Samples.trials[1]
        row.config = ["optimizer": "adamw", "lr": .double(lr), "weight_decay": .double(wd), "batch_size": 64, "nesterov": true]
        let table = Render.trials([row])
        #expect(table.contains("optimizer=adamw batch_size=64 lr=0.003162 nesterov=true weight_decay=1.235e-05"), "\(table)")
        #expect(!table.contains("0.0031622776601683794"))
        var detail = Samples.detail(.running)
        detail.members[0].config = row.config
        #expect(Render.taskDetail(detail).contains("lr=0.003162"))
        let edge = LineageEdge(
            step: 400, at: 0, trialID: 3, donorTrialID: 1, donorStep: 400, configBefore: ["lr": .double(lr)],
            configAfter: ["lr": .double(lr * 1.2)], changed: ["lr"], optimizerReset: false)
        #expect(Render.changes(edge) == "lr 0.003162→0.003795")
        let json = try #require(RPCValue.parse(Array(TrialExport(trials: [row]).json().utf8.dropLast()), maxDepth: 8).arrayValue)
        #expect(json[0]["lr"] == .double(lr) && json[0]["weight_decay"] == .double(wd))
    }

    @Test(arguments: [
        (0.0031622776601683794, "0.003162"), (64.0, "64"), (600.0, "600"), (0.1, "0.1"), (123456.789, "1.235e+05"),
        (-2.5e-7, "-2.5e-07"), (1e-4, "0.0001"), (Double.nan, "NaN"),
    ])
    func tableNumbersHaveFourSignificantDigitsAndWholeNumbersStayWhole(value: Double, expected: String) {
        #expect(Formatting.tableNumber(value) == expected)
    }

    @Test(arguments: [(41.5, "42s"), (185, "3m 05s"), (7620, "2h 07m"), (273_600, "3d 04h")])
    func durationsReadLikeAPersonWouldSayThem(seconds: Double, expected: String) {
        #expect(Formatting.duration(seconds) == expected)
    }
}

@Suite struct TunectlExportTests {
    @Test func csvHasFixedColumnsThenConfigKeysThenMetrics() {
        let csv = TrialExport(trials: Samples.trials).csv()
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines[0]
                == "trial_id,member,status,steps_done,best_metric,parent_trial_id,optimizer,batch_size,lr,momentum,note,train_loss,val_loss"
        )
        #expect(lines[1] == "1,0,completed,4000,0.24,,sgd,,0.1,0.9,,0.2,0.25")
        #expect(lines[2] == "2,1,completed,4000,0.0688,1,adamw,64,0.001,,\"a, \"\"quoted\"\" one\",0.041,0.0688")
        #expect(lines[3] == "3,2,diverged,120,,,lion,,0.5,,,,NaN")
        #expect(lines.count == 5 && lines[4].isEmpty)
    }

    @Test func jsonIsAnArrayOfFlatObjectsThatParsesBack() throws {
        let text = TrialExport(trials: Samples.trials).json()
        let value = try RPCValue.parse(Array(text.utf8.dropLast()), maxDepth: 16)
        let rows = try #require(value.arrayValue)
        #expect(rows.count == 3)
        #expect(rows[1]["lr"] == .double(0.001))
        #expect(rows[1]["val_loss"] == .double(0.0688))
        #expect(rows[1]["parent_trial_id"] == .int(1))
        #expect(rows[0]["parent_trial_id"] == nil)
        #expect(rows[2]["val_loss"] == .string("NaN"))
    }

    @Test func aMetricNamedLikeAColumnIsPrefixed() {
        let t = TrialRow(
            trialID: 1, member: 0, status: .completed, config: ["lr": 0.1], stepsDone: 1,
            finalMetrics: ["lr": 0.05, "status": 1])
        let export = TrialExport(trials: [t])
        #expect(export.columns.suffix(3) == ["lr", "metric.lr", "metric.status"])
        #expect(export.rows[0]["metric.lr"] == .double(0.05))
    }
}

@Suite struct TunectlETATests {
    @Test func etaIsRemainingStepsOverTheRecentRate() throws {
        var eta = ETAEstimator(window: 3)
        eta.record(at: 0, stepsDone: 0, stepsTotal: 1000)
        #expect(eta.secondsRemaining == nil)
        eta.record(at: 10, stepsDone: 100, stepsTotal: 1000)
        #expect(abs(try #require(eta.secondsRemaining) - 90) < 1e-9)  // 10 steps/s, 900 left
        // The task speeds up: the window forgets the slow start.
        eta.record(at: 11, stepsDone: 200, stepsTotal: 1000)
        eta.record(at: 12, stepsDone: 300, stepsTotal: 1000)
        #expect(abs(try #require(eta.rate) - 100) < 1e-9)
        #expect(abs(try #require(eta.secondsRemaining) - 7) < 1e-9)
    }

    @Test func noProgressMeansNoEstimateAndDoneMeansZero() {
        var eta = ETAEstimator()
        eta.record(at: 0, stepsDone: 50, stepsTotal: 100)
        eta.record(at: 5, stepsDone: 50, stepsTotal: 100)
        #expect(eta.secondsRemaining == nil)
        eta.record(at: 6, stepsDone: 100, stepsTotal: 100)
        #expect(eta.secondsRemaining == 0)
    }

    @Test func stepsGoingBackwardsRestartTheWindowAndTheDaemonsEstimateWins() {
        var eta = ETAEstimator()
        eta.record(at: 0, stepsDone: 0, stepsTotal: 100)
        eta.record(at: 10, stepsDone: 50, stepsTotal: 100)
        eta.record(at: 11, stepsDone: 40, stepsTotal: 100)  // a segment re-queued
        #expect(eta.samples.count == 1)
        #expect(eta.best(daemon: 12.5) == 12.5)
        #expect(eta.best(daemon: .nan) == nil)
    }

    @Test func etaFromStartExtrapolatesElapsedTime() {
        #expect(ETAEstimator.fromStart(startedAt: 100, now: 130, stepsDone: 300, stepsTotal: 1000) == 70)
        #expect(ETAEstimator.fromStart(startedAt: 100, now: 130, stepsDone: 0, stepsTotal: 1000) == nil)
    }

    @Test func watchLineShowsProgressBestEtaAndMembers() {
        var view = WatchView(taskID: 7, name: "digits-random", objective: Samples.objective)
        let snapshot = WatchView.Snapshot(Samples.detail(.running), at: 0)
        let eta = view.update(snapshot)
        #expect(eta == 41.5)
        #expect(
            view.line(snapshot, eta: eta)
                == "task 7 digits-random: running 9600/32000 (30%) best val_loss 0.0712 (trial 12, step 4000) eta 42s members 1/1 running"
        )
        let first = view.redraw(snapshot, eta: eta)
        #expect(!first.hasPrefix("\u{1B}"))
        let second = view.redraw(snapshot, eta: eta)
        #expect(second.hasPrefix("\u{1B}[\(first.split(separator: "\n").count)F\u{1B}[J"))
        #expect(WatchView.bar(done: 1, total: 4, width: 8) == "[##......] 25%")
    }
}

@Suite struct TunectlExitStatusTests {
    @Test(arguments: [
        (TaskStatus.completed, CLIExitStatus.success), (.failed, .failure), (.cancelled, .failure),
    ])
    func waitingCommandsExitByTheTasksFinalStatus(status: TaskStatus, expected: CLIExitStatus) {
        #expect(CLIExitStatus.forFinishedTask(status) == expected)
    }

    @Test func errorsAreFailuresAndUsageMistakesAreTwo() {
        #expect(CLIExitStatus.forError(RPCClientError.noDaemon(at: "/x")) == .failure)
        #expect(CLIExitStatus.forError(RPCClientError.remote(.taskNotFound(9))) == .failure)
        #expect(CLIExitStatus.forError(TunectlError("bad file")) == .failure)
        #expect(CLIExitStatus.forError(TunectlError("bad flag", isUsage: true)) == .usage)
        #expect(CLIExitStatus.allCases.map(\.rawValue) == [0, 1, 2])
    }

    @Test func messagesAreOneLine() {
        #expect(TunectlError.message(for: TunectlError("a\n  b\n\nc")) == "a b c")
        #expect(TunectlError.message(for: RPCClientError.remote(.taskNotFound(9))) == "no task 9 (see `tunectl list`)")
    }

    @Test func submitParamsComeFromTheFile() throws {
        let dir = TempDir()
        defer { dir.remove() }
        try "name = \"t\"\n".write(toFile: dir.path + "/t.TOML", atomically: true, encoding: .utf8)
        let p = try TaskFileInput.params(path: "t.TOML", currentDirectory: dir.path)
        #expect(p.format == .toml && p.filename == "t.TOML" && p.text == "name = \"t\"\n")
        #expect(p.baseDir.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
            == URL(fileURLWithPath: dir.path).resolvingSymlinksInPath().path)
        #expect(throws: TunectlError.self) { try TaskFileInput.params(path: "missing.json", currentDirectory: dir.path) }
        #expect(TaskFileInput.format(of: "x.yaml") == nil)
    }
}
