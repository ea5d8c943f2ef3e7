#ifndef PRUNE_CLAPACKE_SHIM_H
#define PRUNE_CLAPACKE_SHIM_H
#include <lapacke.h>
#endif
