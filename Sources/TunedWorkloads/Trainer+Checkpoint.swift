import TunedOptim

extension Trainer {
    /// The trainer's complete state: resuming from it equals never having stopped.
    public func checkpoint() -> Checkpoint<Scalar> {
        var t = StateDict()
        t["loss_sum"] = .double(lossSum)
        t["loss_count"] = .int(lossCount)
        if let noiseScale {
            t["gns_every"] = .int(noiseScaleEvery)
            t.merge(noiseScale.saveState(), prefix: "gns.")
        }
        t["diverged"] = .int(diverged ? 1 : 0)
        return Checkpoint(
            identity: workload.identity(seed: seed), step: step, parameters: parameters,
            optimizerName: optimizer.name, optimizerState: optimizer.saveState(), trainerState: t)
    }

    /// Restores a checkpoint written by a trainer of the same workload (kind, configuration
    /// and seed), optimizer and parameter shapes; the error names what differs.
    ///
    /// `.exploit` (a PBT member continuing from another member's checkpoint with a new
    /// configuration): the weights, step and trainer state are restored; the optimizer state
    /// too unless `resetOptimizerState` (explore changed the optimizer) or it does not fit the
    /// new configuration (e.g. `amsgrad` switched on), in which case it starts fresh. The
    /// learning rates are the new configuration's: every `lr`/`base_lr` entry of the restored
    /// state (at any wrapper level: hypergradient, schedule, base optimizer) is replaced by the
    /// fresh optimizer's, so a schedule continues at the new base rate's value for this step
    /// and hypergradient descent restarts from the new rate.
    public mutating func restore(_ c: Checkpoint<Scalar>, mode: RestoreMode = .resume) throws {
        if case .exploit(let reset) = mode {
            let fresh = optimizer.saveState()
            var state = fresh
            if !reset, c.optimizerName == optimizer.name {
                var donor = c.optimizerState
                for key in fresh.keys where key == "lr" || key.hasSuffix(".lr") || key == "base_lr" || key.hasSuffix(".base_lr") {
                    donor[key] = fresh[key]
                }
                var probe = optimizer
                if (try? probe.restoreState(donor)) != nil { state = donor }
            }
            var weightsOnly = c
            weightsOnly.optimizerName = optimizer.name
            weightsOnly.optimizerState = state
            try restore(weightsOnly, mode: .resume)
            return
        }
        let mine = workload.identity(seed: seed)
        guard c.identity == mine else {
            throw WorkloadError("checkpoint belongs to workload \(c.identity), this run is \(mine); resume with the task, configuration and seed that wrote it")
        }
        guard c.optimizerName == optimizer.name else {
            throw WorkloadError("checkpoint was written with optimizer '\(c.optimizerName)', this run uses '\(optimizer.name)'")
        }
        let shapes = workload.parameterShapes
        guard c.parameters.map(\.shape) == shapes else {
            throw WorkloadError("checkpoint parameter shapes \(c.parameters.map(\.shape)) differ from the workload's \(shapes)")
        }
        var restored = optimizer
        do {
            try restored.restoreState(c.optimizerState)
        } catch {
            throw WorkloadError("checkpoint optimizer state does not fit '\(optimizer.name)': \(error)")
        }
        let sum: Double, count: Int, wasDiverged: Bool, gnsEvery: Int, gns: GradientNoiseScale?
        do {
            sum = try c.trainerState.double("loss_sum")
            count = try c.trainerState.int("loss_count")
            wasDiverged = try c.trainerState.int("diverged") != 0
            if c.trainerState["gns_every"] != nil {
                gnsEvery = try c.trainerState.int("gns_every")
                gns = try GradientNoiseScale(state: c.trainerState.extract(prefix: "gns."))
            } else {
                (gnsEvery, gns) = (0, nil)
            }
        } catch {
            throw WorkloadError("checkpoint trainer state: \(error)")
        }
        (lossSum, lossCount, diverged, noiseScaleEvery, noiseScale) = (sum, count, wasDiverged, gnsEvery, gns)
        optimizer = restored
        parameters = c.parameters
        step = c.step
    }
}

/// How a checkpoint is restored: a plain resume, or a PBT exploit (see `Trainer.restore`).
public enum RestoreMode: Sendable, Equatable {
    case resume
    case exploit(resetOptimizerState: Bool)
}
