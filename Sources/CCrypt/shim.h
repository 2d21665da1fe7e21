#ifndef EMTS_CCRYPT_SHIM_H
#define EMTS_CCRYPT_SHIM_H
/* libxcrypt: crypt_gensalt_rn and crypt_rn for `emts-iso hash-password`. */
#include <crypt.h>
#endif
