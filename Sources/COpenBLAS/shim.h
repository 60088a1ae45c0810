// OpenBLAS: CBLAS for the Krylov-basis products, LAPACK for tridiagonal and
// symmetric eigenproblems (observables and the dense reference checks).
#ifndef KRYLOV_COPENBLAS_SHIM_H
#define KRYLOV_COPENBLAS_SHIM_H
#include <cblas.h>

// LAPACK's Fortran entry points (OpenBLAS exports them; Debian ships no lapacke by default).
void dstev_(const char *jobz, const int *n, double *d, double *e, double *z,
            const int *ldz, double *work, int *info);
void dstevd_(const char *jobz, const int *n, double *d, double *e, double *z,
             const int *ldz, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a,
            const int *lda, double *w, double *work, const int *lwork, int *info);
#endif
