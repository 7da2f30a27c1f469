import Foundation
import Testing
import TunedMath

@Suite struct RandomSourceTests {
    /// MT19937 (init_genrand) reference outputs, computed once with numpy:
    /// `b = np.random.MT19937(0); b._legacy_seeding(s); b.random_raw(n)`. 4293858116 is also
    /// GSL's documented first value of mt19937 for its default seed 4357.
    @Test(arguments: [
        (UInt64(4357), [UInt32(4293858116), 699692587, 1213834231, 4068197670, 994957275]),
        (UInt64(0), [UInt32(4293858116), 699692587, 1213834231]),  // GSL: seed 0 means 4357
        (UInt64(42), [UInt32(1608637542), 3421126067, 4083286876]),
    ])
    func rawOutputIsTheReferenceMersenneTwister(seed: UInt64, expected: [UInt32]) {
        let rng = RandomSource(seed: seed)
        #expect(expected.map { _ in rng.nextUInt32() } == expected)
    }

    @Test func uniformIsRawOutputOverTwoToThe32() {
        #expect(RandomSource(seed: 4357).uniform() == 4293858116.0 / 4294967296.0)
    }

    @Test func seedsAbove32BitsAreFoldedNotTruncated() {
        let big = RandomSource(seed: (1 << 32) | 5), small = RandomSource(seed: 5), folded = RandomSource(seed: 4)
        let a = big.nextUInt32()
        #expect(a != small.nextUInt32())
        #expect(a == folded.nextUInt32())
    }

    @Test func savedStateResumesTheIdenticalStream() throws {
        let rng = RandomSource(seed: 123)
        for _ in 0..<1000 { _ = rng.nextUInt32() }
        let saved = rng.state
        func draws(_ r: RandomSource) throws -> [Double] {
            var out: [Double] = []
            for _ in 0..<700 {
                out.append(r.uniform())
                out.append(try r.normal(mean: 1, standardDeviation: 2))
                out.append(Double(try r.categorical(weights: [0.2, 0.5, 0.3])))
                out.append(Double(try r.integer(below: 1000)))
            }
            out.append(contentsOf: try r.permutation(20).map(Double.init))
            return out
        }
        let first = try draws(rng)  // crosses a 624-word regeneration
        let json = try JSONEncoder().encode(saved)
        let restored = try RandomSource(state: JSONDecoder().decode(RandomSource.State.self, from: json))
        #expect(try draws(restored) == first)  // bit-exact is the claim
        try rng.restore(saved)
        #expect(try draws(rng) == first)
        #expect(saved.generator == "mt19937" && saved.bytes.count >= 624 * 4)
        let clone = rng.copy()
        #expect((0..<10).map { _ in clone.nextUInt32() } == (0..<10).map { _ in rng.nextUInt32() })
    }

    @Test func corruptStatesAreRejected() throws {
        let rng = RandomSource(seed: 1)
        let good = rng.state
        expectGSLError("state.bytes has 3 bytes", status: GSLError.Code.badLength) {
            try rng.restore(.init(generator: "mt19937", bytes: [1, 2, 3]))
        }
        expectGSLError("state.generator is \"ranlux\"") {
            try rng.restore(.init(generator: "ranlux", bytes: good.bytes))
        }
        var bad = good.bytes
        let mti = 624 * MemoryLayout<UInt>.size
        bad[mti] = 0xFF
        bad[mti + 1] = 0xFF  // position 65535
        expectGSLError("position") { try rng.restore(.init(generator: "mt19937", bytes: bad)) }
        bad = good.bytes
        bad[7] = 1  // word 0 > 2³²
        expectGSLError("word 0 exceeds 32 bits") { try rng.restore(.init(generator: "mt19937", bytes: bad)) }
        #expect(rng.state == good, "a rejected state leaves the generator unchanged")
    }

    /// Moments over N draws, each checked at 5 standard errors (deterministic seed).
    @Test func drawsHaveTheRightRangesAndMoments() throws {
        let rng = RandomSource(seed: 77)
        let n = 20000
        let normals = try (0..<n).map { _ in try rng.normal(mean: 3, standardDeviation: 2) }
        #expect(abs(try Statistics.mean(normals) - 3) < 5 * 2 / Double(n).squareRoot())
        #expect(abs(try Statistics.standardDeviation(normals) - 2) < 5 * 2 / (2 * Double(n)).squareRoot())
        let flats = try (0..<n).map { _ in try rng.uniform(-2, 6) }
        #expect(flats.allSatisfy { $0 >= -2 && $0 < 6 })
        #expect(abs(try Statistics.mean(flats) - 2) < 5 * (8 / 12.0.squareRoot()) / Double(n).squareRoot())
        let logs = try (0..<n).map { _ in try rng.logUniform(1e-4, 1e-1) }
        #expect(logs.allSatisfy { $0 >= 1e-4 && $0 <= 1e-1 })
        let l10 = logs.map { log10($0) }  // uniform on [−4, −1]
        #expect(abs(try Statistics.mean(l10) + 2.5) < 5 * (3 / 12.0.squareRoot()) / Double(n).squareRoot())
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<n { counts[try rng.integer(below: 7)] += 1 }
        let p = 1.0 / 7, se = (Double(n) * p * (1 - p)).squareRoot()
        #expect(counts.allSatisfy { abs(Double($0) - Double(n) * p) < 5 * se }, "\(counts)")
        var cat = [0, 0, 0]
        for _ in 0..<n { cat[try rng.categorical(weights: [1, 0, 3])] += 1 }
        #expect(cat[1] == 0)
        #expect(abs(Double(cat[0]) - Double(n) / 4) < 5 * (Double(n) * 0.25 * 0.75).squareRoot(), "\(cat)")
    }

    @Test func permutationsShufflesAndChoicesUseEveryElementOnce() throws {
        let rng = RandomSource(seed: 5)
        let perm = try rng.permutation(50)
        #expect(perm.sorted() == Array(0..<50) && perm != Array(0..<50))
        #expect(try rng.permutation(0) == [] && rng.permutation(1) == [0])
        let items = ["a", "b", "c", "d", "e"]
        #expect(rng.shuffled(items).sorted() == items)
        var seen = Set<String>()
        for _ in 0..<200 { seen.insert(try rng.choice(items)) }
        #expect(seen == Set(items))
        #expect(RandomSource(seed: 5).state == RandomSource(seed: 5).state)
        #expect(try RandomSource(seed: 5).permutation(50) == perm)
    }

    @Test func badArgumentsThrowNamingTheArgument() {
        let rng = RandomSource(seed: 1)
        expectGSLError("uniform: need finite a < b") { _ = try rng.uniform(2, 1) }
        expectGSLError("standardDeviation = -1.0") { _ = try rng.normal(standardDeviation: -1) }
        expectGSLError("mean = nan") { _ = try rng.normal(mean: .nan) }
        expectGSLError("logUniform: need finite 0 < a < b") { _ = try rng.logUniform(0, 1) }
        expectGSLError("n = 0") { _ = try rng.integer(below: 0) }
        expectGSLError("n = 4294967297") { _ = try rng.integer(below: (1 << 32) + 1) }
        expectGSLError("categorical: weights is empty") { _ = try rng.categorical(weights: []) }
        expectGSLError("weights[1] is -1.0") { _ = try rng.categorical(weights: [1, -1]) }
        expectGSLError("weights are all zero") { _ = try rng.categorical(weights: [0, 0]) }
        expectGSLError("choice: items is empty") { _ = try rng.choice([Int]()) }
        expectGSLError("permutation: n = -1") { _ = try rng.permutation(-1) }
    }
}
