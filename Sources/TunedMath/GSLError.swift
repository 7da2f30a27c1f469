@preconcurrency import CGSL

/// An error reported by GSL, or a precondition on the inputs of a TunedMath call.
///
/// GSL's default handler calls `abort()`; `GSL.configure()` (run before every GSL call
/// this module makes) switches it off so that every status code becomes this error.
public struct GSLError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The GSL status code (`GSL_EDOM`, `GSL_EINVAL`, …), or `GSL_EINVAL` for an input
    /// this module rejected before calling GSL.
    public let status: Int32
    /// Which call failed and why, in words.
    public let message: String

    public init(status: Int32, message: String) {
        self.status = status
        self.message = message
    }

    public static func invalid(_ message: String) -> GSLError {
        GSLError(status: Int32(GSL_EINVAL), message: message)
    }

    public var description: String { message }

    public static func == (lhs: GSLError, rhs: GSLError) -> Bool { lhs.status == rhs.status }
}

/// Process-wide GSL set-up.
public enum GSL {
    private static let handlerOff: Void = {
        _ = gsl_set_error_handler_off()
    }()

    /// Turns GSL's abort-on-error handler off (idempotent, thread-safe).
    public static func configure() { _ = handlerOff }

    /// Throws a `GSLError` for a non-success status.
    @inline(__always)
    static func check(_ status: Int32, _ call: @autoclosure () -> String) throws {
        if status != Int32(GSL_SUCCESS) {
            let reason = String(cString: gsl_strerror(status))
            throw GSLError(status: status, message: "\(call()): \(reason)")
        }
    }
}
