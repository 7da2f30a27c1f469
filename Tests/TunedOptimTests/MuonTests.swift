import Foundation
import Testing
@testable import TunedOptim

@Suite struct MuonTests {
    typealias F = StructuredFixture

    /// torch.optim.Muon refuses non-matrix parameters (optax sends them to its AdamW: the
    /// held-out vectors `vx_muon_*_adam_path` check that path).
    @Test func torchMuonOnAVectorIsAnErrorNamingTheShapeAndSuggestingAdamW() {
        do {
            let _: any Optimizer<Double> = try OptimizerRegistry.make(F.spec("muon", .torch, #"{"lr": 0.02}"#), shapes: [[4, 3], [10]])
            Issue.record("a vector must be rejected")
        } catch {
            let message = "\(error)"
            #expect(message.contains("[10]") && message.contains("AdamW") && message.contains("parameter 1"), "\(message)")
        }
    }

    @Test(arguments: [
        (OptimizerLibrary.optax, #"{"learning_rate": 0.02, "preconditioning": "polar"}"#, "preconditioning"),
        (.optax, #"{"learning_rate": 0.02, "ns_coeffs": "fast"}"#, "ns_coeffs"),
        (.optax, #"{"learning_rate": 0.02, "mu_dtype": "bfloat16"}"#, "mu_dtype"),
        (.optax, #"{"learning_rate": 0.02, "muon_weight_dimension_numbers": {"reduction_axis": 0}}"#, "muon_weight_dimension_numbers"),
        (.optax, #"{"ns_steps": 5}"#, "learning_rate"),
        (.torch, #"{"adjust_lr_fn": "sqrt"}"#, "adjust_lr_fn"),
        (.torch, #"{"ns_dtype": "float16"}"#, "ns_dtype"),
        (.torch, #"{"momentum": -0.1}"#, "momentum"),
        (.torch, #"{"betas": [0.9, 0.99]}"#, "betas"),
    ])
    func unsupportedOrInvalidOptionsAreErrorsNamingTheKey(_ library: OptimizerLibrary, _ json: String, _ key: String) {
        do {
            let _: any Optimizer<Double> = try OptimizerRegistry.make(F.spec("muon", library, json), shapes: [[4, 3]])
            Issue.record("expected an error naming '\(key)'")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func bfloat16RoundingIsToNearestEven() {
        #expect(BFloat16.round(Float(1 + 0x1p-8)) == 1)                  // tie, 1 is even
        #expect(BFloat16.round(Float(1 + 3 * 0x1p-8)) == Float(1 + 0x1p-6))  // tie, rounds up to even
        #expect(BFloat16.round(Float(1 + 0x1p-8 + 0x1p-20)) == Float(1 + 0x1p-7))
        #expect(BFloat16.round(Float.greatestFiniteMagnitude) == .infinity)
        #expect(BFloat16.round(Float.nan).isNaN)
        #expect(BFloat16.round(-2.5 as Float) == -2.5)
        // float64 → float32 → bfloat16: the double rounding of torch's `.bfloat16()`.
        #expect(BFloat16.round(1 + 0x1p-8 + 0x1p-30 as Double) == 1)
    }

    /// With the cubic coefficients (1.5, −0.5, 0) Newton–Schulz converges to the polar factor
    /// UVᵀ, so O·Oᵀ = I for a wide matrix (OᵀO for a tall one). 40×48 uses BLAS.
    @Test(arguments: [(3, 5), (5, 3), (7, 7), (40, 48), (48, 40)])
    func newtonSchulzConvergesToAnOrthogonalFactor(_ rows: Int, _ cols: Int) {
        var rng = F.Numbers(state: UInt64(rows * 100 + cols))
        let g = (0..<rows * cols).map { _ in rng.next() }
        for precision in NewtonSchulz.Precision.allCases {
            let ns = NewtonSchulz(coefficients: Array(repeating: (1.5, -0.5, 0), count: 60), eps: 1e-7,
                                  normalization: .clamped, precision: precision)
            let o = ns.orthogonalize(g, rows: rows, cols: cols)
            let m = min(rows, cols)
            var worst = 0.0
            for i in 0..<m {
                for k in 0..<m {
                    var s = 0.0
                    for l in 0..<max(rows, cols) {
                        s += rows <= cols ? o[i * cols + l] * o[k * cols + l] : o[l * cols + i] * o[l * cols + k]
                    }
                    worst = max(worst, abs(s - (i == k ? 1 : 0)))
                }
            }
            let tolerance = precision == .float64 ? 1e-9 : (precision == .float32 ? 1e-4 : 0.1)
            #expect(worst < tolerance, "\(rows)×\(cols) \(precision): ‖OOᵀ − I‖max = \(worst)")
        }
    }

    @Test func bfloat16NewtonSchulzOutputsOnlyBfloat16Values() {
        var rng = F.Numbers(state: 3)
        let g = (0..<35).map { _ in rng.next() }
        let ns = NewtonSchulz(coefficients: Array(repeating: (3.4445, -4.775, 2.0315), count: 5), eps: 1e-7,
                              normalization: .clamped, precision: .bfloat16)
        let o = ns.orthogonalize(g, rows: 7, cols: 5)
        #expect(o.allSatisfy { Float($0).bitPattern & 0xFFFF == 0 && Double(Float($0)) == $0 })
        #expect(o.contains { $0 != 0 })
    }

    @Test func torchAndOptaxUseOppositeShapeScales() throws {
        let torch = try Muon<Double>(torch: Hyperparameters([:]), shapes: [[4, 3]])
        let optax = try Muon<Double>(optax: Hyperparameters(["learning_rate": .number(0.1)]), shapes: [[4, 3]])
        #expect(abs(torch.shapeScale(rows: 4, cols: 3) - (4.0 / 3).squareRoot()) < 1e-15)
        #expect(torch.shapeScale(rows: 3, cols: 4) == 1)
        #expect(optax.shapeScale(rows: 4, cols: 3) == 1)
        #expect(abs(optax.shapeScale(rows: 3, cols: 4) - (4.0 / 3).squareRoot()) < 1e-15)
        let moonshot = try Muon<Double>(torch: Hyperparameters(["adjust_lr_fn": .string("match_rms_adamw")]), shapes: [[4, 3]])
        #expect(abs(moonshot.shapeScale(rows: 7, cols: 5) - 0.2 * 7.0.squareRoot()) < 1e-15)
        let spectral = try Muon<Double>(torch: Hyperparameters(["adjust_lr_fn": .string("spectral_unclamped")]), shapes: [[4, 3]])
        #expect(abs(spectral.shapeScale(rows: 5, cols: 7) - (5.0 / 7).squareRoot()) < 1e-15)
        let rms = try Muon<Double>(optax: Hyperparameters(["learning_rate": .number(0.1), "consistent_rms": .number(0.2)]), shapes: [[4, 3]])
        #expect(abs(rms.shapeScale(rows: 5, cols: 7) - 0.2 * 7.0.squareRoot()) < 1e-15)
    }

    @Test func floatMuonTracksDoubleMuon() throws {
        let spec = F.spec("muon", #"{"lr": 0.02, "ns_dtype": "float64"}"#)
        var d: any Optimizer<Double> = try OptimizerRegistry.make(spec, shapes: [[6, 4]])
        var f: any Optimizer<Float> = try OptimizerRegistry.make(spec, shapes: [[6, 4]])
        var pd: [Tensor<Double>] = F.initial([[6, 4]])
        var pf: [Tensor<Float>] = F.initial([[6, 4]])
        for t in 1...5 {
            d.step(&pd, gradients: F.gradient(pd, step: t))
            f.step(&pf, gradients: F.gradient(pf, step: t))
        }
        let gap = zip(pd[0].values, pf[0].values).map { abs($0 - Double($1)) }.max() ?? .infinity
        #expect(gap < 1e-5, "Float and Double Muon differ by \(gap)")
    }
}
