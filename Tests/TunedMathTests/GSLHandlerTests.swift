@preconcurrency import CGSL
import Testing
import TunedMath

/// GSL reports errors through `gsl_error`, whose default handler calls `abort()`.
@Suite struct GSLHandlerTests {
    /// `gsl_ran_discrete_preproc` with a negative probability raises GSL_EINVAL through the
    /// handler (GSL randist/discrete.c); after `GSL.configure()` it must return NULL instead
    /// of aborting the test process.
    @Test func configuredHandlerTurnsGSLErrorsIntoReturnValues() {
        GSL.configure()
        let table = gsl_ran_discrete_preproc(2, [1, -1])
        #expect(table == nil)
        if let table { gsl_ran_discrete_free(table) }
    }

    @Test func statusCodesBecomeGSLErrorsWithGSLsReason() {
        let e = GSLError(status: GSLError.Code.singular, message: "m")
        #expect(e == GSLError(status: Int32(GSL_ESING), message: "other"))
        #expect(String(cString: gsl_strerror(GSLError.Code.badLength)).contains("conformant"))
    }
}
