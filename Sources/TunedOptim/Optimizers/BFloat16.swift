/// bfloat16 arithmetic as torch's CPU kernels do it, emulated in `Float`.
///
/// A bfloat16 is the upper 16 bits of a Float32. torch computes every bfloat16 operation in
/// float32 ("opmath") and rounds the result once to bfloat16, round-to-nearest-even
/// (`c10::BFloat16` `round_to_nearest_even`). Values produced here are Floats whose low 16
/// bits are zero, so they are exactly the bfloat16 values torch holds.
enum BFloat16 {
    /// The bfloat16 nearest to `x` (ties to even), as a Float. NaN stays NaN; values beyond
    /// the bfloat16 range round to ±infinity, as in torch.
    @inline(__always)
    static func round(_ x: Float) -> Float {
        if x.isNaN { return .nan }
        let bits = x.bitPattern
        let lsb = (bits >> 16) & 1
        let rounded = (bits &+ 0x7FFF &+ lsb) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    /// float64 → float32 → bfloat16, the double rounding `Tensor.bfloat16()` performs on a
    /// float64 tensor.
    @inline(__always)
    static func round(_ x: Double) -> Float {
        round(Float(x))
    }
}
