/// Building an optimizer from a trial's flat configuration, as a search space samples it:
/// `{"optimizer": "adamw", "lr": 0.01, "weight_decay": 1e-4, "beta1": 0.9, …}`.
///
/// The search space uses one set of names for every optimizer; this maps them to each
/// optimizer's own keywords and drops the ones an optimizer does not have (β's only for
/// Adam-like optimizers, momentum for SGD-like ones, ns_steps for Muon), so that one
/// configuration can be explored across optimizers.
extension OptimizerSpec {
    /// Keys of a trial configuration that belong to the optimizer.
    public static let trialKeys: Set<String> = [
        "optimizer", "lr", "weight_decay", "beta1", "beta2", "eps", "momentum", "nesterov", "dampening",
        "ns_steps", "centered", "amsgrad", "alpha", "warmup_steps", "r", "weight_lr_power",
    ]

    /// Which trial keys each optimizer accepts, and the keyword they become.
    static func accepted(_ name: String) -> [String: String] {
        var m = ["lr": "lr", "weight_decay": "weight_decay"]
        switch name {
        case "sgd", "momentum", "nesterov", "sgd_hd", "sgdn_hd":
            m["momentum"] = "momentum"; m["nesterov"] = "nesterov"; m["dampening"] = "dampening"
        case "adam", "adamw":
            m["eps"] = "eps"; m["amsgrad"] = "amsgrad"
        case "nadam", "radam", "lamb", "adam_hd":
            m["eps"] = "eps"
        case "lion": break
        case "tiger": m["beta1"] = "beta"
        case "rmsprop": m["eps"] = "eps"; m["momentum"] = "momentum"; m["centered"] = "centered"; m["alpha"] = "alpha"
        case "adagrad": m["eps"] = "eps"
        case "muon": m["momentum"] = "momentum"; m["nesterov"] = "nesterov"; m["ns_steps"] = "ns_steps"
        case "lars": m["momentum"] = "momentum"
        case "adamw_schedulefree":
            m["eps"] = "eps"; m["warmup_steps"] = "warmup_steps"; m["r"] = "r"; m["weight_lr_power"] = "weight_lr_power"
        case "sgd_schedulefree":
            m["momentum"] = "momentum"; m["warmup_steps"] = "warmup_steps"; m["r"] = "r"; m["weight_lr_power"] = "weight_lr_power"
        case "adam_mini": m["eps"] = "eps"
        default: break
        }
        return m
    }

    static let betaOptimizers: Set<String> = [
        "adam", "adamw", "nadam", "radam", "lamb", "lion", "adam_hd", "adamw_schedulefree", "adam_mini",
    ]

    /// The trial keys (besides `optimizer`) that optimizer `name` uses, from the same table
    /// `fromTrial` maps with: a search space samples a key under an optimizer only if it is
    /// here (`beta1`/`beta2` for Adam-like optimizers and Lion, `beta1` for Tiger, `momentum`
    /// for SGD-like ones, RMSprop, Muon and LARS, `ns_steps` for Muon, `warmup_steps`, `r` and
    /// `weight_lr_power` for the schedule-free optimizers, …).
    public static func trialKeysUsed(by name: String) -> Set<String> {
        var keys = Set(accepted(name).keys)
        if betaOptimizers.contains(name) { keys.formUnion(["beta1", "beta2"]) }
        return keys
    }

    /// The optimizer a trial configuration describes (torch library, torch keywords).
    /// Keys other optimizers use are dropped; a key no optimizer uses is an error naming it.
    public static func fromTrial(_ config: [String: JSONValue], context: String = "config") throws -> OptimizerSpec {
        guard let name = config["optimizer"]?.stringValue else {
            throw OptimizerError("\(context): 'optimizer' must be a string such as \"adamw\"")
        }
        var hp: [String: JSONValue] = [:]
        let map = accepted(name)
        for (key, value) in config where key != "optimizer" {
            guard trialKeys.contains(key) else { continue }
            if let keyword = map[key] { hp[keyword] = value }
        }
        if betaOptimizers.contains(name), config["beta1"] != nil || config["beta2"] != nil {
            let defaults: (Double, Double) = name == "lion" ? (0.9, 0.99) : (0.9, 0.999)
            let b1 = try config["beta1"].map { v -> Double in
                guard let d = v.doubleValue else { throw OptimizerError("\(context): 'beta1' must be a number") }
                return d
            } ?? defaults.0
            let b2 = try config["beta2"].map { v -> Double in
                guard let d = v.doubleValue else { throw OptimizerError("\(context): 'beta2' must be a number") }
                return d
            } ?? defaults.1
            hp["betas"] = .array([.number(b1), .number(b2)])
        }
        return OptimizerSpec(name: name, library: .torch, hyperparameters: Hyperparameters(hp, context: context))
    }
}
