/* ProcessPrng for Wine 8, which lacks bcryptprimitives.dll (Rust's std has used it since 1.78).
 * Built by scripts/check-windows.sh for running the unit tests under Wine only; never shipped. */
#include <windows.h>
#include <ntsecapi.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
