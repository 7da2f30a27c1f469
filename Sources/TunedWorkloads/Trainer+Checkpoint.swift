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
    /// new configuration (e.g. `amsgrad` switched on), in which case it starts fresh; and the
    /// learning rate is the new configuration's (a restored state would bring the donor's).
    public mutating func restore(_ c: Checkpoint<Scalar>, mode: RestoreMode = .resume) throws {
        if case .exploit(let reset) = mode {
            var fresh = self
            let lr = optimizer.learningRate
            if !reset, c.optimizerName == optimizer.name {
                var restored = optimizer
                if (try? restored.restoreState(c.optimizerState)) != nil { fresh.optimizer = restored }
            }
            var weightsOnly = c
            weightsOnly.optimizerName = fresh.optimizer.name
            weightsOnly.optimizerState = fresh.optimizer.saveState()
            try fresh.restore(weightsOnly, mode: .resume)
            fresh.optimizer.learningRate = lr
            self = fresh
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
