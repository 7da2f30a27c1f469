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

extension GSLError {
    /// GSL status codes this module reports, for matching:
    /// `catch let e as GSLError where e.status == GSLError.Code.singular`.
    public enum Code {
        /// `GSL_EDOM`: input outside the domain (NaN, negative weight, p ∉ [0, 1], …).
        public static let domain = Int32(GSL_EDOM)
        /// `GSL_EINVAL`: invalid argument (empty input, non-positive count, …).
        public static let invalid = Int32(GSL_EINVAL)
        /// `GSL_EBADLEN`: lengths or shapes that do not match.
        public static let badLength = Int32(GSL_EBADLEN)
        /// `GSL_ESING`: singular (rank-deficient) system.
        public static let singular = Int32(GSL_ESING)
        /// `GSL_EBADFUNC`: a user-supplied function returned a bad value (NaN, wrong length, threw).
        public static let badFunction = Int32(GSL_EBADFUNC)
        /// `GSL_ENOMEM`: GSL could not allocate.
        public static let noMemory = Int32(GSL_ENOMEM)
        /// `GSL_EUNIMPL`: a case GSL does not implement (e.g. an SVD with fewer rows than columns).
        public static let unimplemented = Int32(GSL_EUNIMPL)
    }

    /// Input outside the domain (`GSL_EDOM`); the message should name the argument.
    static func domain(_ message: String) -> GSLError { GSLError(status: Code.domain, message: message) }

    /// Mismatched lengths (`GSL_EBADLEN`); the message should name the argument.
    static func badLength(_ message: String) -> GSLError { GSLError(status: Code.badLength, message: message) }

    /// A GSL allocation returned NULL.
    static func noMemory(_ call: String) -> GSLError {
        GSLError(status: Code.noMemory, message: "\(call) returned NULL (out of memory or invalid size)")
    }
}
