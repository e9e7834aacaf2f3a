/* Force-included (-include) into every C file of the CPython build in the bullseye root.
 *
 * glibc 2.29 gave exp, exp2, log, log2 and pow new default symbol versions (faster implementations), so
 * anything compiled against glibc >= 2.29 that calls them needs GLIBC_2.29 and refuses to load on
 * glibc 2.28 (UOS 20, Kylin V10).  Binding the references to the previous versions keeps the result
 * loadable there.  The old versions are the same functions minus the new speed-ups.
 * x86_64 only: the previous version is GLIBC_2.2.5 there.
 */
#if defined(__x86_64__) && defined(__linux__) && !defined(__ASSEMBLER__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver exp2,exp2@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver log2,log2@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
#endif
