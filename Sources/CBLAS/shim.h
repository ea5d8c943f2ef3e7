#ifndef PRUNE_CBLAS_SHIM_H
#define PRUNE_CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS extensions used to pin the thread count (determinism, benchmarks). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
/* The kernel family OpenBLAS chose for this CPU ("Haswell", "SkylakeX", "Prescott", ...). */
char *openblas_get_corename(void);
#endif
