/* TEST ONLY, never shipped: a stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks.
 *
 * Extension modules built with current Rust (cryptography's _rust.pyd, python-calamine) import
 * ProcessPrng from bcryptprimitives.dll (Rust's std uses it for randomness since Rust 1.78).  Every
 * Windows 10/11 has that DLL; Wine 8.0 does not, so under Wine those modules fail to load.
 * installer/windows/smoke-wine.sh builds this with mingw-w64 and puts it into the test prefix's
 * system32 only.  ProcessPrng fills the buffer from advapi32's RtlGenRandom (SystemFunction036),
 * in chunks (RtlGenRandom takes a ULONG length), and like the real one always returns TRUE. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG) length;
        if (!SystemFunction036(data, chunk))
            ExitProcess(3); /* no randomness: stop rather than hand out zeros */
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
