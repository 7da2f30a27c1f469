#ifndef TUNED_CGSL_SHIM_H
#define TUNED_CGSL_SHIM_H
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_statistics_float.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>

/* Square roots that lower to LLVM's sqrt intrinsic (no errno), so that loops using them
   vectorise. Swift's Float.squareRoot() calls libm's sqrtf, whose errno side effect keeps
   LLVM from vectorising a loop around it. IEEE sqrt either way: the results are the same. */
static inline float tuned_sqrtf(float x) { return __builtin_elementwise_sqrt(x); }
static inline double tuned_sqrt(double x) { return __builtin_elementwise_sqrt(x); }
#endif
