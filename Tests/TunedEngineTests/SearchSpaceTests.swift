import Foundation
import Testing
import TunedOptim
import TunedWorkloads

@testable import TunedEngine

private func space(_ search: String, strategy: String = "kind = \"random\"\ntrials = 4") throws -> TaskSpec {
    try TaskFile.parse("""
        name = "s"
        [workload]
        kind = "rosenbrock"
        [search]
        \(search)
        [strategy]
        \(strategy)
        [budget]
        steps = 100
        seed = 7
        """, file: "s.toml")
}

private let wide = """
    optimizer = ["sgd", "momentum", "adamw", "lion", "muon", "rmsprop"]
    lr = { log_uniform = [1e-4, 1.0] }
    weight_decay = { uniform = [0.0, 0.1] }
    beta1 = { uniform = [0.8, 0.99] }
    beta2 = { choice = [0.99, 0.999] }
    momentum = { uniform = [0.5, 0.99] }
    ns_steps = { int_uniform = [3, 7] }
    nesterov = { choice = [true, false] }
    batch_size = { choice = [32, 64, 128] }
    """

@Suite struct SearchSpaceTests {
    @Test func samplingIsDeterministicPerSeedAndIndex() throws {
        let s = try space(wide).search
        let a = (0..<20).map { s.sample(seed: 7, index: $0) }
        let b = (0..<20).map { s.sample(seed: 7, index: $0) }
        #expect(a == b)
        #expect(a != (0..<20).map { s.sample(seed: 8, index: $0) })
        #expect(Set(a.map { "\($0)" }).count == 20)
        // Trial 5 does not depend on how many trials there are.
        #expect(s.sample(seed: 7, index: 5) == a[5])
    }

    @Test func samplesStayInTheirDomainsAndCoverThem() throws {
        let s = try space(wide).search
        var optimizers = Set<String>(), batch = Set<Double>(), ns = Set<Double>()
        var lrs: [Double] = []
        for i in 0..<500 {
            let c = s.sample(seed: 1, index: i)
            let opt = try #require(c["optimizer"]?.stringValue)
            optimizers.insert(opt)
            let lr = try #require(c["lr"]?.doubleValue)
            #expect(lr >= 1e-4 && lr <= 1.0)
            lrs.append(lr)
            if let wd = c["weight_decay"]?.doubleValue { #expect(wd >= 0 && wd < 0.1) }
            if let b1 = c["beta1"]?.doubleValue { #expect(b1 >= 0.8 && b1 < 0.99) }
            if let b2 = c["beta2"]?.doubleValue { #expect(b2 == 0.99 || b2 == 0.999) }
            if let m = c["momentum"]?.doubleValue { #expect(m >= 0.5 && m < 0.99) }
            if let n = c["ns_steps"]?.doubleValue { #expect((3...7).contains(Int(n)) && n == n.rounded()); ns.insert(n) }
            batch.insert(try #require(c["batch_size"]?.doubleValue))
        }
        #expect(optimizers == ["sgd", "momentum", "adamw", "lion", "muon", "rmsprop"])
        #expect(batch == [32, 64, 128])
        #expect(ns == [3, 4, 5, 6, 7])
        // log-uniform: about half the draws below the geometric midpoint 1e-2.
        let below = lrs.filter { $0 < 1e-2 }.count
        #expect(below > 200 && below < 300)
    }

    /// PBT's initial population: every optimizer dealt ⌊P/k⌋ or ⌈P/k⌉ times, and inside each
    /// optimizer's group every key a Latin hypercube (one member per stratum), choices dealt evenly.
    @Test(arguments: [6, 12, 13, 30])
    func stratifiedPopulationsCoverEveryStratum(count: Int) throws {
        let s = try space(wide).search
        let pop = s.stratifiedSample(seed: 3, count: count)
        #expect(pop == s.stratifiedSample(seed: 3, count: count))
        #expect(pop != s.stratifiedSample(seed: 4, count: count))
        #expect(pop.count == count)
        var groups: [String: [[String: JSONValue]]] = [:]
        for c in pop { groups[try #require(c["optimizer"]?.stringValue), default: []].append(c) }
        #expect(Set(groups.keys).count == min(count, 6))
        for (optimizer, members) in groups {
            #expect(members.count == count / 6 || members.count == (count + 5) / 6, "\(optimizer)")
            let n = Double(members.count)
            // lr: log-uniform on [1e-4, 1], 4 decades: member j's stratum is ⌊n·(log10 lr + 4)/4⌋.
            let lrStrata = members.map { Int((n * (log10($0["lr"]!.doubleValue!) + 4) / 4).rounded(.down)) }
            #expect(Set(lrStrata) == Set(0..<members.count), "\(optimizer) lr strata \(lrStrata)")
            for c in members { #expect(Set(c.keys) == Set(["optimizer"] + s.keys(for: optimizer))) }
            let batches = members.map { $0["batch_size"]!.doubleValue! }
            for b in [32.0, 64, 128] {
                let k = batches.filter { $0 == b }.count
                #expect(k == members.count / 3 || k == (members.count + 2) / 3, "\(optimizer) batch \(b): \(batches)")
            }
            if optimizer == "muon" {
                let ns = members.map { $0["ns_steps"]!.doubleValue! }
                #expect(ns.allSatisfy { (3...7).contains(Int($0)) })
            }
        }
    }

    /// HD's lr bounds default to `[search] lr`'s range; explicit bounds and a fixed lr keep theirs.
    @Test func hypergradientBoundsComeFromTheSearchedLearningRateRange() throws {
        let hd = "kind = \"random\"\ntrials = 2\nhypergradient = { beta = 1e-4 }"
        let ranged = try space("optimizer = [\"sgd\"]\nlr = { log_uniform = [1e-3, 0.5] }", strategy: hd)
        let c = ranged.trialConfig(ranged.search.sample(seed: 1, index: 0))
        #expect(c["hypergradient_lr_min"] == .number(1e-3))
        #expect(c["hypergradient_lr_max"] == .number(0.5))
        let choice = try space("optimizer = [\"sgd\"]\nlr = { choice = [0.1, 0.01, 0.3] }", strategy: hd)
        let cc = choice.trialConfig(choice.search.sample(seed: 1, index: 0))
        #expect(cc["hypergradient_lr_min"] == .number(0.01) && cc["hypergradient_lr_max"] == .number(0.3))
        let own = try space(
            "optimizer = [\"sgd\"]\nlr = { log_uniform = [1e-3, 0.5] }",
            strategy: "kind = \"random\"\ntrials = 2\nhypergradient = { beta = 1e-4, lr_max = 2.0 }")
        let oc = own.trialConfig(own.search.sample(seed: 1, index: 0))
        #expect(oc["hypergradient_lr_min"] == nil && oc["hypergradient_lr_max"] == .number(2.0))
        let fixed = try space("optimizer = [\"sgd\"]\nlr = 0.1", strategy: hd)
        let fc = fixed.trialConfig(fixed.search.sample(seed: 1, index: 0))
        #expect(fc["hypergradient_lr_min"] == nil && fc["hypergradient_lr_max"] == nil)
        #expect(fc["hypergradient_beta"] == .number(1e-4))
    }

    @Test func configurationsHoldOnlyTheKeysTheirOptimizerUses() throws {
        let s = try space(wide).search
        for i in 0..<200 {
            let c = s.sample(seed: 3, index: i)
            let opt = c["optimizer"]!.stringValue!
            let keys = Set(c.keys)
            #expect(keys.contains("lr") && keys.contains("batch_size"))
            #expect(keys.contains("beta1") == ["adamw", "lion"].contains(opt), "\(opt): \(keys)")
            #expect(keys.contains("momentum") == ["sgd", "momentum", "muon", "rmsprop"].contains(opt), "\(opt): \(keys)")
            #expect(keys.contains("ns_steps") == (opt == "muon"), "\(opt): \(keys)")
            #expect(keys.contains("nesterov") == ["sgd", "momentum", "muon"].contains(opt), "\(opt): \(keys)")
            #expect(keys.contains("weight_decay"))
        }
    }

    /// Schedule-free AdamW/SGD and Adam-mini are searchable with their own keys: warmup_steps,
    /// r and weight_lr_power only for the schedule-free ones, momentum only for SGD's.
    @Test func scheduleFreeAndAdamMiniAreSearchable() throws {
        let s = try space("""
            optimizer = ["adamw_schedulefree", "sgd_schedulefree", "adam_mini"]
            lr = { log_uniform = [1e-4, 1.0] }
            beta1 = { uniform = [0.8, 0.99] }
            momentum = { uniform = [0.5, 0.99] }
            warmup_steps = { int_uniform = [0, 50] }
            r = { uniform = [0.0, 1.0] }
            weight_lr_power = { choice = [0.0, 2.0] }
            """).search
        var seen = Set<String>()
        for i in 0..<60 {
            let c = s.sample(seed: 5, index: i)
            let opt = c["optimizer"]!.stringValue!
            seen.insert(opt)
            let keys = Set(c.keys)
            let sf = opt.hasSuffix("_schedulefree")
            #expect(keys.contains("warmup_steps") == sf && keys.contains("r") == sf && keys.contains("weight_lr_power") == sf, "\(opt): \(keys)")
            #expect(keys.contains("momentum") == (opt == "sgd_schedulefree"), "\(opt): \(keys)")
            #expect(keys.contains("beta1") == (opt != "sgd_schedulefree"), "\(opt): \(keys)")
            let o = try TrialConfig(json: c).makeOptimizer(shapes: [[4, 3], [4]], scalar: Double.self)
            #expect(o.name == opt)
        }
        #expect(seen.count == 3)
    }

    @Test func everyConfigurationIsAValidTrialConfig() throws {
        let spec = try space(wide, strategy: "kind = \"random\"\ntrials = 50\nhypergradient = { beta = 1e-4, lr_max = 2.0 }")
        var rs = RandomSearch(spec: spec)
        _ = rs.start()
        for t in rs.trials {
            #expect(t.config["hypergradient_beta"] == .number(1e-4))
            let tc = try TrialConfig(json: t.config)
            #expect(tc.optimizer.name == t.config["optimizer"]?.stringValue)
            #expect(tc.hypergradientBeta == 1e-4)
            _ = try tc.makeOptimizer(shapes: [[4, 3], [3]], scalar: Double.self)
        }
        let grid = try GridSearch(spec: space(wide, strategy: "kind = \"grid\""))
        for t in grid.trials {
            _ = try TrialConfig(json: t.config).makeOptimizer(shapes: [[4, 3], [3]], scalar: Double.self)
        }
    }

    @Test func gridEnumeratesTheConditionalProduct() throws {
        let s = try space(wide).search
        // Per optimizer: lr 3 × weight_decay 3 × batch 3 = 27, times its own keys:
        // sgd/momentum: momentum 3 × nesterov 2 → 162 each; adamw, lion: beta1 3 × beta2 2 → 162 each;
        // muon: momentum 3 × nesterov 2 × ns_steps 3 → 486; rmsprop: momentum 3 → 81.
        #expect(s.gridCount(points: 3) == 162 * 4 + 486 + 81)
        let grid = s.grid(points: 3)
        #expect(grid.count == 1215)
        #expect(Set(grid.map { "\($0)" }).count == grid.count)
        #expect(grid.filter { $0["optimizer"] == .string("muon") }.allSatisfy { $0["ns_steps"] != nil && $0["beta1"] == nil })
        #expect(Set(grid.compactMap { $0["ns_steps"]?.doubleValue }) == [3, 5, 7])
    }

    @Test func gridValuesAreLinearLogAndIntegerSpaced() {
        #expect(SearchSpace.gridValues(.uniform(0, 1), points: 3) == [.number(0), .number(0.5), .number(1)])
        let log = SearchSpace.gridValues(.logUniform(1e-4, 1), points: 5).map { $0.doubleValue! }
        for (a, b) in zip(log, [1e-4, 1e-3, 1e-2, 1e-1, 1]) { #expect(abs(a - b) <= 1e-12 * b) }
        #expect(SearchSpace.gridValues(.intUniform(1, 3), points: 5) == [.number(1), .number(2), .number(3)])
        #expect(SearchSpace.gridValues(.intUniform(0, 10), points: 3) == [.number(0), .number(5), .number(10)])
        #expect(SearchSpace.gridValues(.logUniform(1, 100), points: 1) == [.number(10)])
        #expect(SearchSpace.gridValues(.choice([.bool(true), .bool(false)]), points: 7).count == 2)
    }

    @Test(arguments: [(1, 1), (4, 4), (10, 10), (15, 15), (100, 15)])
    func gridCapKeepsEveryOptimizersShare(_ cap: Int, _ expected: Int) throws {
        let spec = try space("optimizer = [\"sgd\", \"adamw\"]\nlr = { log_uniform = [1e-4, 1.0] }\nbeta1 = { uniform = [0.8, 0.99] }\nmomentum = { choice = [0.0, 0.9] }", strategy: "kind = \"grid\"\ntrials = \(cap)")
        // sgd: lr 3 × momentum 2 = 6; adamw: lr 3 × beta1 3 = 9; 15 in all.
        let full = spec.search.gridCount(points: 3)
        #expect(full == 15)
        let g = try GridSearch(spec: spec)
        #expect(g.trials.count == min(expected, full))
        if cap >= 2 {
            #expect(Set(g.trials.compactMap { $0.config["optimizer"]?.stringValue }).count == 2)
        }
    }

    @Test func fixedValuesAndSingleOptimizer() throws {
        let s = try space("optimizer = \"adamw\"\nlr = 0.003\nbeta2 = 0.98\nbatch_size = 64").search
        #expect(s.sample(seed: 0, index: 0) == ["optimizer": .string("adamw"), "lr": .number(0.003), "beta2": .number(0.98), "batch_size": .number(64)])
        #expect(s.gridCount(points: 3) == 1)
    }

    @Test func sharedTableDecidesConditionality() {
        #expect(OptimizerSpec.trialKeysUsed(by: "muon").isSuperset(of: ["momentum", "ns_steps", "lr"]))
        #expect(OptimizerSpec.trialKeysUsed(by: "lion").isSuperset(of: ["beta1", "beta2"]))
        #expect(!OptimizerSpec.trialKeysUsed(by: "sgd").contains("beta1"))
        #expect(!OptimizerSpec.trialKeysUsed(by: "adamw").contains("momentum"))
    }
}
