@preconcurrency import CGSL

extension LinearLeastSquares {
    /// The outcome of choosing a ridge parameter from a list of candidates.
    public struct RidgeSelection: Sendable, Equatable {
        /// The chosen λ (the first candidate with the lowest score).
        public let lambda: Double
        /// The candidates, in the order given.
        public let candidates: [Double]
        /// The score of each candidate (GCV function G(λ), or the supplied validation loss).
        public let scores: [Double]
        /// The fit at the chosen λ.
        public let fit: Fit
    }

    /// Chooses λ among `candidates` by generalised cross-validation.
    ///
    /// G(λ) = ‖√W(y − Xc_λ)‖² / (n − tr H_λ)², the GCV function of GSL's
    /// `gsl_multifit_linear_gcv_calc` (Golub, Heath & Wahba 1979; Hansen, *Discrete Inverse
    /// Problems*, 2010), where H_λ = A(AᵀA + λ²I)⁻¹Aᵀ is the hat matrix of A = √W·X, so
    /// n − tr H_λ = n − p + Σₖ λ²/(sₖ² + λ²). One SVD serves all candidates. λ = 0 is allowed
    /// (and then X must have full rank). Ties go to the earlier candidate.
    ///
    /// GCV scores the fitting data only; with a held-out set use
    /// `selectRidge(X:y:weights:candidates:validationLoss:)` instead.
    public static func selectRidgeByGCV(
        X: Matrix<Double>, y: [Double], weights: [Double]? = nil, candidates: [Double]
    ) throws -> RidgeSelection {
        try checkCandidates(candidates)
        let problem = try Problem(X: X, y: y, weights: weights)
        GSL.configure()
        guard let work = gsl_multifit_linear_alloc(problem.observations, problem.p) else {
            throw GSLError.noMemory("gsl_multifit_linear_alloc")
        }
        defer { gsl_multifit_linear_free(work) }
        let (_, b) = try problem.decompose(work)
        if candidates.contains(0) { try problem.checkRank(gsl_multifit_linear_rcond(work)) }
        // gcv_init fills a grid of its own choosing into regGrid (unused here), U^T y into uty.
        let regGrid = try GSLVector(count: candidates.count), uty = try GSLVector(count: problem.p)
        var delta0 = 0.0
        try GSL.check(
            gsl_multifit_linear_gcv_init(b.pointer, regGrid.pointer, uty.pointer, &delta0, work),
            "y: gsl_multifit_linear_gcv_init")
        let scores = candidates.map { gsl_multifit_linear_gcv_calc($0, uty.pointer, delta0, work) }
        if let i = scores.firstIndex(where: { !$0.isFinite }) {
            throw GSLError.domain("candidates[\(i)]: GCV score at λ = \(candidates[i]) is \(scores[i])")
        }
        return try choose(problem, candidates, scores)
    }

    /// Chooses λ among `candidates` by a validation loss: fits at every candidate and keeps
    /// the one whose `validationLoss(fit)` is lowest (ties: the earlier candidate). The
    /// closure typically predicts a held-out set with `fit.coefficients` and returns its
    /// mean squared error; it must return a finite number.
    public static func selectRidge(
        X: Matrix<Double>, y: [Double], weights: [Double]? = nil, candidates: [Double],
        validationLoss: (Fit) throws -> Double
    ) throws -> RidgeSelection {
        try checkCandidates(candidates)
        let problem = try Problem(X: X, y: y, weights: weights)
        var scores: [Double] = []
        scores.reserveCapacity(candidates.count)
        for (i, lambda) in candidates.enumerated() {
            let score = try validationLoss(problem.ridge(lambda))
            guard score.isFinite else {
                throw GSLError.domain(
                    "validationLoss returned \(score) for candidates[\(i)] = \(lambda); it must be finite")
            }
            scores.append(score)
        }
        return try choose(problem, candidates, scores)
    }

    private static func choose(_ problem: Problem, _ candidates: [Double], _ scores: [Double]) throws -> RidgeSelection
    {
        var best = 0
        for i in scores.indices where scores[i] < scores[best] { best = i }
        return RidgeSelection(
            lambda: candidates[best], candidates: candidates, scores: scores, fit: try problem.ridge(candidates[best]))
    }

    private static func checkCandidates(_ candidates: [Double]) throws {
        guard !candidates.isEmpty else { throw GSLError.invalid("candidates is empty; give at least one λ ≥ 0") }
        if let i = candidates.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw GSLError.domain("candidates[\(i)] = \(candidates[i]); every λ must be finite and ≥ 0")
        }
    }
}
