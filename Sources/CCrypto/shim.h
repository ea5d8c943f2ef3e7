#ifndef PRUNE_CCRYPTO_SHIM_H
#define PRUNE_CCRYPTO_SHIM_H
/* Only SHA-256 is used: OpenSSL's libcrypto picks SHA-NI/AVX2 code paths at run time. */
#include <openssl/sha.h>
#include <openssl/evp.h>
#endif
