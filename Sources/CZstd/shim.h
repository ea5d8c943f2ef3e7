#ifndef PRUNE_CZSTD_SHIM_H
#define PRUNE_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
